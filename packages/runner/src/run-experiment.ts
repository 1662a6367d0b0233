import path from 'node:path';
import { loadExperimentFile } from '@joules/config';
import { closeServers, dryRun, type Launcher, runWithRetry } from '@joules/launcher';
import { allocateExperimentId } from '@joules/tracker';
import { RunConfigError } from './errors.js';
import { type EventSink, safeSink } from './events.js';
import { type Ending, finishFailed, finishInterrupted, finishSucceeded } from './experiment/finish-experiment.js';
import { effectiveLauncher, launchJob, retryPolicy } from './experiment/launch-job.js';
import { launcherCache } from './experiment/launcher-cache.js';
import { failureRecorder } from './experiment/record-results.js';
import { forwardJobEvent } from './job-events.js';
import { isMultiMachine } from './machines/rendezvous.js';
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
    const { runOnMachines } = await import('./machines/run-on-machines.js');
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
  const end: Ending = { resultsDir, emit, key: experimentId, experimentId, planned: experiment, logFile: job.logFile };
  if (outcome.outcome.status === 'interrupted') {
    finishInterrupted(end);
    return { status: 'interrupted', ...base };
  }
  if (outcome.outcome.status === 'failed') {
    const { kind, message } = outcome.outcome;
    await finishFailed(end, { kind, message, attempts: outcome.attempts.length });
    return { status: 'failed', ...base, kind, message, attempts: outcome.attempts.length };
  }
  const { recorded, metrics } = await finishSucceeded(end, outcome, { startedAt });
  return { status: 'succeeded', ...base, ran: outcome.experiment, recorded, metrics };
}
