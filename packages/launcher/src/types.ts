import type { Experiment } from '@joules/config';
import type { FailureKind, WorkerErrorFile, WorkerEvent } from './worker-events.js';

/** One experiment to run. */
export interface LaunchJob {
  /** The validated, effective experiment (relative paths already resolved). */
  experiment: Experiment;
  /** Folder the worker writes `rank-<r>.json` / `error-rank-<r>.json` into (created if missing). */
  outputDir: string;
  /** The worker's stdout and stderr are appended here. */
  logFile: string;
  /** Wall-clock limit in milliseconds; the whole process tree is killed past it. */
  timeoutMs?: number;
  /** Extra environment variables for the worker. */
  env?: Record<string, string>;
}

/** What a launcher reports while a job runs. Libraries never print: the caller decides. */
export type LaunchEvent =
  | { type: 'started'; pid: number; command: readonly string[] }
  | { type: 'worker'; event: WorkerEvent }
  | { type: 'exited'; exitCode: number | null; signal: string | null };

export interface LaunchOptions {
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent) => void;
}

export type OutcomeKind = FailureKind | 'timeout' | 'crashed';

/** The typed result of one launch. Launchers never throw for a failing worker. */
export type LaunchOutcome =
  | { status: 'succeeded'; rankFiles: string[]; exitCode: 0; durationMs: number; command: readonly string[] }
  | {
      status: 'failed';
      kind: OutcomeKind;
      message: string;
      exitCode: number | null;
      signal: string | null;
      errors: WorkerErrorFile[];
      durationMs: number;
      command: readonly string[];
    }
  | { status: 'interrupted'; message: string; durationMs: number; command: readonly string[] };

/** The executable and arguments a launcher would run for a job, plus its extra environment. */
export interface CommandLine {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** A way of starting the worker: accelerate, plain python, a scheduler... */
export interface Launcher {
  readonly name: string;
  /** The exact command for a job whose config was written to `configPath`. */
  command(job: LaunchJob, configPath: string, port: number): CommandLine;
  launch(job: LaunchJob, options?: LaunchOptions): Promise<LaunchOutcome>;
}
