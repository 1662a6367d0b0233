import { rm } from 'node:fs/promises';
import type { Experiment } from '@joules/config';
import type { RetryResult } from '@joules/launcher';
import type { ExperimentMetrics } from '@joules/metrics';
import { type RecordedExperiment, recordFailure } from '@joules/tracker';
import type { EventSink } from '../events.js';
import { launchJob } from './launch-job.js';
import { recordSuccess } from './record-results.js';

// How an experiment ends, recorded and told in one place for `runExperiment`, the machine-0 side of
// a multi-machine run and each experiment of a suite.

/** The experiment that ended: where it is recorded, and whom to tell. */
export interface Ending {
  resultsDir: string;
  emit: EventSink;
  /** The events' key: the suite key, or the experiment id. */
  key: string;
  experimentId: string;
  /** As configured: its config hash goes in the row, its batch size in the event. */
  planned: Experiment;
  logFile: string;
}

export interface SuccessOptions {
  startedAt: string;
  /** A host-level energy reader ran beside other jobs (see energyHostShared in @joules/config). */
  energyHostShared?: boolean;
  /** Model reuse: what the worker session says of this experiment (default: not reused, no load time). */
  session?: { modelReused: boolean; modelLoadS: number | null };
  /** Runs once the results are written, before the work folder goes (a suite closes its journal entry). */
  afterRecord?: () => Promise<void>;
}

/** Record a success (results folder and row), remove the work folder, emit `experiment-finished`. */
export async function finishSucceeded(
  end: Ending,
  result: RetryResult,
  options: SuccessOptions,
): Promise<{ recorded: RecordedExperiment; metrics: ExperimentMetrics }> {
  const { recorded, metrics } = await recordSuccess(
    end.resultsDir,
    end.experimentId,
    end.planned,
    result,
    options.startedAt,
    options.energyHostShared === undefined ? {} : { energyHostShared: options.energyHostShared },
  );
  await options.afterRecord?.();
  await rm(launchJob(end.resultsDir, end.experimentId, result.experiment).outputDir, { recursive: true, force: true });
  end.emit({
    type: 'experiment-finished',
    key: end.key,
    experimentId: end.experimentId,
    energyTotalJ: metrics.energy_total_j,
    energyPerTokenJ: metrics.energy_per_token_j,
    batchSize: result.experiment.batch_size,
    plannedBatchSize: end.planned.batch_size,
    modelReused: options.session?.modelReused ?? false,
    modelLoadS: options.session?.modelLoadS ?? null,
    dir: recorded.dir,
  });
  return { recorded, metrics };
}

export interface Failure {
  kind: string;
  message: string;
  attempts: number;
}

/**
 * Emit `experiment-failed`. Attempts run through the launcher's retries have their rows in
 * failed_experiments.csv already (`failureRecorder`); `logRow` writes the final row first for a
 * run that had no such attempts (several machines).
 */
export async function finishFailed(end: Ending, failure: Failure, options: { logRow?: boolean } = {}): Promise<void> {
  const { kind, message, attempts } = failure;
  if (options.logRow) {
    await recordFailure(end.resultsDir, {
      experimentId: end.experimentId,
      configName: end.planned.config_name,
      modelName: end.planned.model_name,
      attempt: attempts,
      kind,
      message,
      config: end.planned,
      final: true,
    });
  }
  end.emit({
    type: 'experiment-failed',
    key: end.key,
    experimentId: end.experimentId,
    kind,
    message,
    attempts,
    logFile: end.logFile,
  });
}

/** Emit `experiment-interrupted`. */
export function finishInterrupted(end: Ending): void {
  end.emit({ type: 'experiment-interrupted', key: end.key, experimentId: end.experimentId, logFile: end.logFile });
}
