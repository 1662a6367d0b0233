import {
  energyHostShared,
  loadSuiteFile,
  type SearchSpec,
  type SuiteExperiment,
  sharedHostProblems,
} from '@joules/config';
import { dryRun } from '@joules/launcher';
import { resultColumnType } from '@joules/metrics';
import { RunConfigError } from '../errors.js';
import type { EventSink } from '../events.js';
import { launchJob } from '../experiment/launch-job.js';
import type { LauncherFor } from '../experiment/launcher-cache.js';
import { isSlurm } from './suite-run.js';

/** A suite file that may run: its name, its experiments, and whether it asks for model reuse. */
export interface RunnableSuite {
  name: string;
  experiments: SuiteExperiment[];
  reuseModel: boolean;
  cycles: number;
  /** A search suite's search (normalized); null for a plain suite. */
  search: SearchSpec | null;
}

/**
 * Load and expand a suite file; warnings (and, with `skipInvalid`, the dropped combinations) go
 * out as notices. Rejects with a RunConfigError when the file is invalid or asks for several
 * hand-started machines (a `joules run` matter).
 */
export async function loadRunnableSuite(
  file: string,
  cwd: string,
  options: { set?: string[]; skipInvalid?: boolean },
  emit: EventSink,
): Promise<RunnableSuite> {
  const loaded = await loadSuiteFile(file, {
    resolvePaths: true,
    cwd,
    skipInvalid: options.skipInvalid === true,
    columnType: resultColumnType,
    ...(options.set && { set: options.set }),
  });
  for (const w of loaded.result.warnings) emit({ type: 'notice', level: 'warning', message: w });
  for (const i of options.skipInvalid ? loaded.invalid : [])
    emit({ type: 'notice', level: 'info', key: i.key, message: `dropped ${i.key}: ${i.reasons.join('; ')}` });
  if (!loaded.result.config) throw new RunConfigError(loaded.result.errors);
  const multi = loaded.experiments.filter((e) => e.experiment.launch.machines.num_machines > 1);
  if (multi.length) {
    throw new RunConfigError(
      multi.map(
        (e) =>
          `${e.key}: launch.machines.num_machines > 1 is for \`joules run\` on each machine (docs/cluster.md); in a suite use launch.launcher: slurm`,
      ),
    );
  }
  const { name, reuse, cycles, search } = loaded.result.config;
  return { name, experiments: loaded.experiments, reuseModel: reuse === 'model', cycles, search };
}

/** Each experiment's command lines and config (`dryRun`): nothing launched. */
export async function dryRunTexts(
  experiments: readonly SuiteExperiment[],
  resultsDir: string,
  launcherFor: LauncherFor,
): Promise<{ key: string; text: string }[]> {
  const texts: { key: string; text: string }[] = [];
  for (const e of experiments)
    texts.push({
      key: e.key,
      text: dryRun(await launcherFor(e.experiment), launchJob(resultsDir, '<id>', e.experiment)).text,
    });
  return texts;
}

/**
 * Host-level energy readers beside parallel jobs on this host (Slurm jobs run elsewhere): refused
 * (RunConfigError) unless allowed; the allowed ones are told apart by the returned test.
 */
export function hostSharing(
  experiments: readonly SuiteExperiment[],
  maxParallel: number,
): (e: SuiteExperiment) => boolean {
  const onHost = experiments.filter((e) => !isSlurm(e));
  const problems = sharedHostProblems(onHost, maxParallel);
  if (problems.length) throw new RunConfigError(problems);
  return (e) => !isSlurm(e) && energyHostShared(e.experiment, maxParallel, onHost.length);
}
