import type { Experiment } from '@joules/config';
import type { FailureKind, WorkerErrorFile, WorkerEvent } from './worker-events.js';

/** One experiment to run once (one attempt). */
export interface LaunchJob {
  /** The validated, effective experiment (relative paths already resolved). */
  experiment: Experiment;
  /** Folder the worker writes `rank-<r>.json` / `error-rank-<r>.json` into (created if missing). */
  outputDir: string;
  /** The worker's stdout and stderr are appended here. */
  logFile: string;
  /** Names the job in events (`runWithRetry`: default config_name; `runBatch`: default its index). */
  id?: string;
  /** 1-based attempt number, set by `runWithRetry` (written in the log header). */
  attempt?: number;
  /** Wall-clock limit per attempt in milliseconds; the whole process tree is killed past it. */
  timeoutMs?: number;
  /** Kill the process tree when the worker writes nothing on stdout or stderr for this long. */
  silenceTimeoutMs?: number;
  /** Time between the polite signal (SIGINT/SIGTERM) and SIGKILL when stopping. Default 3000. */
  killGraceMs?: number;
  /** accelerate's `--main_process_port`; default: a free port no other running launch holds. */
  port?: number;
  /** Extra environment variables for the worker (they win over the launcher's own). */
  env?: Record<string, string>;
  /** The results folder's state folder (`.joules`): files a launcher keeps across runs (the GPU guard's restore files). */
  stateDir?: string;
}

/** What a launcher reports while one attempt runs. Libraries never print: the caller decides. */
export type LaunchEvent =
  /** `schedulerJobId`: the batch scheduler's id of the job (e.g. Slurm's), when a scheduler runs it. */
  | { type: 'started'; pid: number; command: readonly string[]; schedulerJobId?: string }
  | { type: 'worker'; event: WorkerEvent }
  | { type: 'exited'; exitCode: number | null; signal: string | null };

export interface LaunchOptions {
  /**
   * Abort to stop the job. The reason picks the signal forwarded to the worker's process tree:
   * `'SIGINT'`, `'SIGTERM'` or `'SIGHUP'` as given (the CLI passes the signal it received),
   * anything else SIGTERM; SIGKILL follows after `killGraceMs`.
   */
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent) => void;
}

/**
 * How a failed attempt ended: a worker failure kind, or the launcher's own observations
 * (`gpu_control`: the GPU guard refused gpu.power_limit_w / gpu.sm_clock_mhz, or did not restore them).
 */
export type OutcomeKind = FailureKind | 'timeout' | 'crashed' | ServerOutcomeKind | 'gpu_control';

/** Failures of the inference server around a worker (engine "server"; see ServerLauncher). */
export type ServerOutcomeKind = 'server_start_failed' | 'server_crashed' | 'server_unreachable';

/** Which limit ended an attempt of kind `timeout`. */
export type TimeoutKind = 'wall-clock' | 'silence';

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
      /** Set when `kind` is `timeout`: which limit fired. */
      timeout?: TimeoutKind;
    }
  | { status: 'interrupted'; message: string; durationMs: number; command: readonly string[] };

/** The executable and arguments a launcher would run for a job, plus its extra environment. */
export interface CommandLine {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * A way of starting the worker for one job: `accelerate launch`, plain python, a container, a
 * scheduler... Pass one to `runWithRetry` / `runBatch`, or name a module exporting one in the
 * config (`launch.launcher: ./my-launcher.mjs`, loaded by `loadLauncher`).
 *
 * What a launcher promises:
 * - `launch` runs ONE attempt and resolves with a {@link LaunchOutcome}: `succeeded` with the
 *   worker's `rank-<r>.json` files, `failed` with a kind (retry decisions are made from it), or
 *   `interrupted`. It rejects only when the launcher itself cannot work (binary missing).
 * - When `options.signal` aborts, it stops the job and resolves `interrupted` only once nothing it
 *   started is still running. It honours `job.timeoutMs` / `job.silenceTimeoutMs` (kind `timeout`).
 * - It reports progress through `options.onEvent` and never prints.
 *
 * The easy way to write one is to extend `WorkerLauncher` and implement `command` only: the private
 * config file, process tree, timeouts, signals and failure classification come with it.
 */
export interface Launcher {
  /** A short name, recorded with each experiment (e.g. `accelerate`). */
  readonly name: string;
  /** Run one attempt of `job`. */
  launch(job: LaunchJob, options?: LaunchOptions): Promise<LaunchOutcome>;
  /**
   * The exact command for `job` whose config was written to `configPath`, using `port` for the
   * rendezvous. Optional: without it `dryRun` cannot show the job.
   */
  command?(job: LaunchJob, configPath: string, port: number): CommandLine;
}
