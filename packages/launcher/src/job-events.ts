import type { Experiment } from '@joules/config';
import type { LaunchOutcome, OutcomeKind } from './launcher.js';
import type { WorkerEvent } from './worker-events.js';

export type SucceededOutcome = Extract<LaunchOutcome, { status: 'succeeded' }>;
export type FailedOutcome = Extract<LaunchOutcome, { status: 'failed' }>;
export type InterruptedOutcome = Extract<LaunchOutcome, { status: 'interrupted' }>;

/**
 * What `runWithRetry` and `runBatch` report, in order, for each job (`jobId`):
 * `queued` (batch only) → per attempt `started` → `worker`… → `exited` → `attempt-failed` →
 * `retrying` → … and exactly one of `succeeded`, `failed`, `interrupted` at the end.
 * The CLI turns them into progress; the tracker records `attempt-failed` and `failed`.
 */
export type JobEvent =
  | { type: 'queued'; jobId: string; gpus: number }
  | {
      type: 'started';
      jobId: string;
      attempt: number;
      pid: number;
      command: readonly string[];
      /** The GPUs this attempt runs on (`experiment.gpu_ids`, allocated from the pool in a batch). */
      gpuIds: readonly number[];
      batchSize: number;
      /** The batch scheduler's job id (Slurm), when a scheduler runs the attempt. */
      schedulerJobId?: string;
    }
  | { type: 'worker'; jobId: string; attempt: number; event: WorkerEvent }
  | { type: 'exited'; jobId: string; attempt: number; exitCode: number | null; signal: string | null }
  | {
      type: 'attempt-failed';
      jobId: string;
      attempt: number;
      kind: OutcomeKind;
      message: string;
      /** Whether another attempt follows (the kind is retried and retries are left). */
      willRetry: boolean;
      /** Why (not) again: "out of memory: batch size 8 → 4", "bad_config is not retried"… */
      reason: string;
      outcome: FailedOutcome;
      /** The experiment this attempt ran (its batch size may be a halved one). */
      experiment: Experiment;
    }
  | {
      type: 'retrying';
      jobId: string;
      /** The attempt about to start. */
      attempt: number;
      /** The wait before it: backoffBaseS^(attempt-1) seconds. */
      delayMs: number;
      batchSize: number;
      previousBatchSize: number;
    }
  | { type: 'succeeded'; jobId: string; attempts: number; outcome: SucceededOutcome; experiment: Experiment }
  | { type: 'failed'; jobId: string; attempts: number; reason: string; outcome: FailedOutcome; experiment: Experiment }
  | { type: 'interrupted'; jobId: string; attempts: number; outcome: InterruptedOutcome };
