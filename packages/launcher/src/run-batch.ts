import pLimit from 'p-limit';
import { LaunchOptionsError } from './errors.js';
import { GpuPool, gpuNeed } from './gpu-pool.js';
import type { FailedOutcome, JobEvent } from './job-events.js';
import type { Launcher, LaunchJob } from './launcher.js';
import { checkRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { type RetryResult, runWithRetry } from './run-with-retry.js';

/** A job of a batch; `launcher` and `retry` override the batch's own. */
export interface BatchJob extends LaunchJob {
  launcher?: Launcher;
  retry?: Partial<RetryPolicy>;
}

export interface BatchOptions {
  launcher: Launcher;
  /** The most jobs running at once (default 1). The one concurrency limit of a batch. */
  maxParallel?: number;
  /**
   * The GPU pool, e.g. [0,1,2,3,4,5,6,7]. A job that uses GPUs takes num_processes of them and runs
   * with `experiment.gpu_ids` rewritten to the ids it got. Without a pool, jobs run on their own
   * gpu_ids and two jobs naming the same GPU never run at once.
   */
  gpus?: readonly number[];
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  onEvent?: (event: JobEvent) => void;
  /**
   * Called when a job has its slot (and GPUs), right before its first attempt: what it returns
   * overrides the job's fields (e.g. an experiment id allocated only now, and the output folder
   * and log file named after it). A throw fails that job without running it.
   */
  prepare?: (job: BatchJob & { id: string }) => Promise<Partial<LaunchJob>>;
  /**
   * Called with a job's final result while it still holds its slot (e.g. to record results before
   * the next job starts). A throw is reported as that job's `error`.
   */
  settle?: (result: BatchResult) => Promise<void>;
}

/** One job's result, in the order of the jobs given. `error`: the launcher threw (not retried). */
export interface BatchResult extends RetryResult {
  error?: unknown;
}

function checkBatch(jobs: readonly BatchJob[], options: BatchOptions): { ids: string[]; maxParallel: number } {
  const maxParallel = options.maxParallel ?? 1;
  if (!Number.isInteger(maxParallel) || maxParallel < 1) {
    throw new LaunchOptionsError(`maxParallel: expected an integer ≥ 1, got ${maxParallel}`, 'BAD_BATCH_OPTIONS');
  }
  const { gpus } = options;
  if (gpus && (gpus.some((g) => !Number.isInteger(g) || g < 0) || new Set(gpus).size !== gpus.length)) {
    throw new LaunchOptionsError(
      `gpus: expected distinct GPU indices ≥ 0, got [${gpus.join(', ')}]`,
      'BAD_BATCH_OPTIONS',
    );
  }
  checkRetryPolicy(options.retry);
  const ids = jobs.map((job, i) => job.id ?? String(i));
  jobs.forEach((job, i) => {
    if (ids.indexOf(ids[i]!) !== i)
      throw new LaunchOptionsError(`jobs[${i}].id: "${ids[i]}" is used twice`, 'BAD_BATCH_OPTIONS');
    if (job.retry) checkRetryPolicy(job.retry);
    const need = gpuNeed(job.experiment, gpus !== undefined);
    if (gpus && 'count' in need && need.count > gpus.length) {
      throw new LaunchOptionsError(
        `jobs[${i}] (${ids[i]}): needs ${need.count} GPUs (num_processes) but the pool has ${gpus.length} ([${gpus.join(', ')}])`,
        'GPU_POOL_TOO_SMALL',
      );
    }
  });
  return { ids, maxParallel };
}

/**
 * Run many jobs, each with retries, at most `maxParallel` at once (p-limit) and never two on one
 * GPU. Each attempt gets its own `--main_process_port`. On abort, running jobs are stopped (signal
 * forwarded, SIGKILL after the grace period) and every unfinished job comes back `interrupted`; it
 * resolves once no process of the batch is left. Options are checked before anything starts.
 */
export async function runBatch(jobs: readonly BatchJob[], options: BatchOptions): Promise<BatchResult[]> {
  const { ids, maxParallel } = checkBatch(jobs, options);
  const { signal } = options;
  const emit = options.onEvent ?? (() => {});
  const pool = new GpuPool(options.gpus);
  const pooled = options.gpus !== undefined;
  const limit = pLimit(maxParallel);

  const runOne = async (job: BatchJob, jobId: string): Promise<BatchResult> => {
    const need = gpuNeed(job.experiment, pooled);
    const stopped = (): BatchResult => {
      const outcome = {
        status: 'interrupted',
        message: 'interrupted before it started',
        durationMs: 0,
        command: [],
      } as const;
      emit({ type: 'interrupted', jobId, attempts: 0, outcome });
      return { jobId, outcome, experiment: job.experiment, attempts: [] };
    };
    if (signal?.aborted) return stopped();
    let gpuIds: number[];
    try {
      gpuIds = await pool.acquire(need, signal);
    } catch {
      return stopped();
    }
    try {
      const experiment = pooled && gpuIds.length > 0 ? { ...job.experiment, gpu_ids: gpuIds } : job.experiment;
      const { launcher = options.launcher, retry = options.retry, ...launchJob } = job;
      const prepared = options.prepare ? await options.prepare({ ...job, id: jobId, experiment }) : {};
      const result: BatchResult = await runWithRetry(
        launcher,
        { ...launchJob, id: jobId, experiment, ...prepared },
        retry,
        {
          ...(signal && { signal }),
          onEvent: emit,
        },
      );
      if (options.settle) {
        try {
          await options.settle(result);
        } catch (error) {
          return { ...result, error };
        }
      }
      return result;
    } catch (error) {
      const message = `launcher failed: ${error instanceof Error ? error.message : String(error)}`;
      const outcome: FailedOutcome = {
        status: 'failed',
        kind: 'other',
        message,
        exitCode: null,
        signal: null,
        errors: [],
        durationMs: 0,
        command: [],
      };
      emit({ type: 'failed', jobId, attempts: 0, reason: message, outcome, experiment: job.experiment });
      return { jobId, outcome, experiment: job.experiment, attempts: [], reason: message, error };
    } finally {
      pool.release(gpuIds);
    }
  };

  jobs.forEach((job, i) => {
    const need = gpuNeed(job.experiment, pooled);
    emit({ type: 'queued', jobId: ids[i]!, gpus: 'count' in need ? need.count : need.ids.length });
  });
  return Promise.all(jobs.map((job, i) => limit(() => runOne(job, ids[i]!))));
}
