import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadExperimentFile } from '@joules/config';
import { closeServers, dryRun, type Launcher, runWithRetry } from '@joules/launcher';
import { allocateExperimentId } from '@joules/tracker';
import { RunConfigError } from './errors.js';
import { type EventSink, safeSink } from './events.js';
import {
  effectiveLauncher,
  failureRecorder,
  launcherCache,
  launchJob,
  recordSuccess,
  retryPolicy,
} from './experiment-jobs.js';
import { forwardJobEvent } from './job-events.js';
import { isMultiMachine } from './machines.js';
import type { ExperimentOutcome } from './outcomes.js';
import { resolveWorkerEnv } from './worker-env.js';

export interface RunExperimentOptions {
  /** The experiment file (YAML or JSON). */
  config: string;
  /** `path=value` overrides, as `--set` gives them. */
  set?: string[];
  /** Default `results` under `cwd`. */
  resultsDir?: string;
  /** The worker's Python (default: $JOULES_PYTHON, else the checkout's python/.venv). */
  python?: string;
  /** A launcher object instead of the one `launch.launcher` names. */
  launcher?: Launcher;
  cwd?: string;
  /** Build the command lines and config only; launch nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

/**
 * One experiment, with retries (OOM halves the batch), recorded under the results folder: its raw
 * files, a CSV row, and every failed attempt in failed_experiments.csv. Bad config rejects with a
 * RunConfigError naming every problem; a failed or interrupted run resolves with that status.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentOutcome> {
  const emit = safeSink(options.onEvent);
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.config);
  const { result } = await loadExperimentFile(file, {
    resolvePaths: true,
    cwd,
    ...(options.set && { set: options.set }),
  });
  for (const w of result.warnings) emit({ type: 'notice', level: 'warning', message: w });
  if (!result.config) throw new RunConfigError(result.errors);
  const experiment = result.config;
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcher = await launcherCache(worker, path.dirname(file), {
    ...(options.launcher && { override: options.launcher }),
  })(experiment);

  if (options.dryRun)
    return { status: 'dry-run', text: dryRun(launcher, launchJob(resultsDir, '<id>', experiment)).text };
  emit({
    type: 'experiment-planned',
    key: experiment.config_name,
    experiment,
    launcher: options.launcher ? launcher.name : effectiveLauncher(experiment),
  });
  const rel = (p: string) => path.relative(cwd, p) || '.';

  if (isMultiMachine(experiment)) {
    const { runOnMachines } = await import('./run-machines.js');
    return runOnMachines({
      experiment,
      resultsDir,
      launcher,
      emit,
      rel,
      progress: (event, id) => forwardJobEvent(emit, event, id, id),
      ...(options.signal && { signal: options.signal }),
    });
  }

  const experimentId = await allocateExperimentId(resultsDir);
  const job = launchJob(resultsDir, experimentId, experiment);
  const startedAt = new Date().toISOString();
  const recordFailure = failureRecorder(resultsDir, () => experimentId);
  const writes: Promise<void>[] = [];
  emit({ type: 'experiment-started', key: experimentId, experimentId, attempt: 1 });
  const outcome = await runWithRetry(launcher, { ...job, id: experimentId }, retryPolicy(experiment), {
    ...(options.signal && { signal: options.signal }),
    onEvent: (event) => {
      forwardJobEvent(emit, event, experimentId, experimentId);
      writes.push(recordFailure(event));
    },
  }).finally(closeServers); // engine "server": its server ends with the experiment
  await Promise.all(writes);
  const base = { experimentId, experiment, logFile: job.logFile, resultsDir };
  if (outcome.outcome.status === 'interrupted') {
    emit({ type: 'experiment-interrupted', key: experimentId, experimentId, logFile: job.logFile });
    return { status: 'interrupted', ...base };
  }
  if (outcome.outcome.status === 'failed') {
    const { kind, message } = outcome.outcome;
    emit({
      type: 'experiment-failed',
      key: experimentId,
      experimentId,
      kind,
      message,
      attempts: outcome.attempts.length,
      logFile: job.logFile,
    });
    return { status: 'failed', ...base, kind, message, attempts: outcome.attempts.length };
  }
  const { recorded, metrics } = await recordSuccess(resultsDir, experimentId, experiment, outcome, startedAt);
  await rm(job.outputDir, { recursive: true, force: true });
  emit({
    type: 'experiment-finished',
    key: experimentId,
    experimentId,
    energyTotalJ: metrics.energy_total_j,
    energyPerTokenJ: metrics.energy_per_token_j,
    batchSize: outcome.experiment.batch_size,
    plannedBatchSize: experiment.batch_size,
    modelReused: false,
    modelLoadS: null,
    dir: recorded.dir,
  });
  return { status: 'succeeded', ...base, ran: outcome.experiment, recorded, metrics };
}
