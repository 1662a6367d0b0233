import path from 'node:path';
import type { Experiment } from '@joules/config';
import pRetry, { AbortError } from 'p-retry';
import type { FailedOutcome, InterruptedOutcome, JobEvent } from './job-events.js';
import type { LaunchEvent, Launcher, LaunchJob, LaunchOutcome } from './launcher.js';
import { backoffDelayMs, backoffOptions, checkRetryPolicy, decideRetry, type RetryPolicy } from './retry-policy.js';

/** One attempt of a job, as it ran. */
export interface AttemptRecord {
  attempt: number;
  /** The experiment of this attempt (batch size halved after an OOM). */
  experiment: Experiment;
  /** `<job.outputDir>/attempt-<n>`: each attempt's files stay apart. */
  outputDir: string;
  outcome: LaunchOutcome;
  startedAt: string;
  finishedAt: string;
}

export interface RetryResult {
  jobId: string;
  /** The last attempt's outcome, or `interrupted` when the job was stopped between attempts. */
  outcome: LaunchOutcome;
  /** The experiment of the last attempt (what a success really ran). */
  experiment: Experiment;
  attempts: AttemptRecord[];
  /** For `failed`: why no further attempt was made. */
  reason?: string;
}

export interface RetryOptions {
  signal?: AbortSignal;
  onEvent?: (event: JobEvent) => void;
}

/** Thrown inside p-retry for a failed attempt; wrapped in AbortError when it must not be retried. */
class AttemptFailure extends Error {
  constructor(
    readonly outcome: FailedOutcome,
    readonly reason: string,
  ) {
    super(outcome.message);
  }
}

const interrupted = (message: string): InterruptedOutcome => ({
  status: 'interrupted',
  message,
  durationMs: 0,
  command: [],
});

/**
 * Run `job` with `launcher` until it succeeds, fails for good, or is interrupted: p-retry waits
 * backoffBaseS^(n-1) s before attempt n, up to `maxRetries` more attempts; an OOM halves the batch
 * size; final kinds (bad_config, model_not_found, dataset, unsupported) stop at once. Every attempt
 * is reported as events; it resolves once nothing of the job runs any more.
 * It rejects only when the launcher itself throws (e.g. its binary is missing).
 */
export async function runWithRetry(
  launcher: Launcher,
  job: LaunchJob,
  policy?: Partial<RetryPolicy>,
  options: RetryOptions = {},
): Promise<RetryResult> {
  const p = checkRetryPolicy(policy);
  const jobId = job.id ?? job.experiment.config_name;
  const emit = options.onEvent ?? (() => {});
  const { signal } = options;
  const attempts: AttemptRecord[] = [];
  let next = job.experiment;

  const runAttempt = async (attempt: number): Promise<LaunchOutcome> => {
    const experiment = next;
    const outputDir = path.join(job.outputDir, `attempt-${attempt}`);
    const tag = (e: LaunchEvent): JobEvent =>
      e.type === 'started'
        ? { ...e, jobId, attempt, gpuIds: experiment.gpu_ids, batchSize: experiment.batch_size }
        : { ...e, jobId, attempt };
    const startedAt = new Date().toISOString();
    let outcome: LaunchOutcome;
    try {
      outcome = await launcher.launch(
        { ...job, id: jobId, attempt, experiment, outputDir },
        { ...(signal && { signal }), onEvent: (e) => emit(tag(e)) },
      );
    } catch (error) {
      throw new AbortError(error instanceof Error ? error : new Error(String(error)));
    }
    attempts.push({ attempt, experiment, outputDir, outcome, startedAt, finishedAt: new Date().toISOString() });
    if (outcome.status !== 'failed') return outcome;
    const decision = decideRetry(outcome, experiment, p);
    const willRetry = decision.retry && attempt <= p.maxRetries;
    const reason =
      decision.retry && !willRetry
        ? `gave up after ${attempt} attempts (max_retries ${p.maxRetries})`
        : decision.reason;
    emit({
      type: 'attempt-failed',
      jobId,
      attempt,
      kind: outcome.kind,
      message: outcome.message,
      willRetry,
      reason,
      outcome,
      experiment,
    });
    if (!decision.retry) throw new AbortError(new AttemptFailure(outcome, reason));
    next = decision.experiment;
    throw new AttemptFailure(outcome, reason);
  };

  let returned: LaunchOutcome | undefined;
  let caught: unknown;
  try {
    returned = await pRetry(runAttempt, {
      retries: p.maxRetries,
      ...backoffOptions(p),
      randomize: false,
      ...(signal && { signal }),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        // p-retry also calls this for the abort it raises itself after an interrupted attempt.
        if (!(error instanceof AttemptFailure) || retriesLeft <= 0 || signal?.aborted) return;
        const previousBatchSize = attempts.at(-1)?.experiment.batch_size ?? next.batch_size;
        const attempt = attemptNumber + 1;
        emit({
          type: 'retrying',
          jobId,
          attempt,
          delayMs: backoffDelayMs(attempt, p),
          batchSize: next.batch_size,
          previousBatchSize,
        });
      },
    });
  } catch (error) {
    caught = error;
  }

  const last = attempts.at(-1);
  const experiment = last?.experiment ?? job.experiment;
  const n = attempts.length;
  if (caught instanceof AttemptFailure) {
    emit({ type: 'failed', jobId, attempts: n, reason: caught.reason, outcome: caught.outcome, experiment });
    return { jobId, outcome: caught.outcome, experiment, attempts, reason: caught.reason };
  }
  // p-retry rejects with the abort reason when the signal fires (even right after an attempt ended).
  if (caught !== undefined && !signal?.aborted) throw caught;
  const outcome =
    returned ??
    (last?.outcome.status === 'succeeded' || last?.outcome.status === 'interrupted'
      ? last.outcome
      : interrupted(n === 0 ? 'interrupted before it started' : 'interrupted while waiting to retry'));
  if (outcome.status === 'succeeded') emit({ type: 'succeeded', jobId, attempts: n, outcome, experiment });
  else if (outcome.status === 'interrupted') emit({ type: 'interrupted', jobId, attempts: n, outcome });
  else emit({ type: 'failed', jobId, attempts: n, reason: 'the launcher returned a failure', outcome, experiment });
  return { jobId, outcome, experiment, attempts };
}
