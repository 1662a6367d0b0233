/** Errors of @joules/launcher. Each carries a stable string `code`. */
export class LauncherError extends Error {
  override name = 'LauncherError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The launcher itself could not start (binary missing, temp file not writable). */
export class LaunchSetupError extends LauncherError {
  override name = 'LaunchSetupError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'LAUNCH_SETUP', options);
  }
}

export type LauncherLoadErrorCode =
  | 'UNKNOWN_LAUNCHER'
  | 'LAUNCHER_OPTION_MISSING'
  | 'LAUNCHER_MODULE_NOT_FOUND'
  | 'LAUNCHER_MODULE_FAILED'
  | 'NOT_A_LAUNCHER';

/** `loadLauncher` could not give a launcher for a spec (unknown name, missing or wrong module). */
export class LauncherLoadError extends LauncherError {
  override name = 'LauncherLoadError';
  declare readonly code: LauncherLoadErrorCode;
  constructor(message: string, code: LauncherLoadErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** Options that cannot work: a retry policy or batch option out of range, a GPU pool too small. */
export class LaunchOptionsError extends LauncherError {
  override name = 'LaunchOptionsError';
  constructor(
    message: string,
    code: 'BAD_RETRY_POLICY' | 'BAD_BATCH_OPTIONS' | 'GPU_POOL_TOO_SMALL' | 'NO_COMMAND',
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

export type SlurmErrorCode =
  /** A Slurm command (sbatch, squeue, scontrol, scancel, sinfo) is not on PATH. */
  | 'SLURM_NOT_FOUND'
  /** Resources that cannot work for the experiment (nodes, GPUs per node, time limit...). */
  | 'SLURM_BAD_OPTIONS'
  /** A node of the job could not see the experiment's folder: the results are not on shared storage. */
  | 'SLURM_STORAGE_NOT_SHARED'
  /** The controller did not answer (slurmctld down or unreachable). */
  | 'SLURM_UNREACHABLE';

/** An error of the Slurm launcher itself (not of a job: a failing job is an outcome). */
export class SlurmError extends LauncherError {
  override name = 'SlurmError';
  declare readonly code: SlurmErrorCode;
  constructor(message: string, code: SlurmErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** How an inference server (engine "server") failed; the same strings are the failure kinds. */
export type ServerErrorCode =
  /** The command was not found, exited before it was healthy, or gave no health before ready_timeout_s. */
  | 'server_start_failed'
  /** The server died while an experiment used it. */
  | 'server_crashed'
  /** The server answered wrongly: HTTP 4xx/5xx, garbage or truncated streams, stalls. */
  | 'server_error'
  /** An attached server (server.url) cannot be reached. */
  | 'server_unreachable';

/** An inference server's failure, with the tail of its log in the message where there is one. */
export class ServerError extends LauncherError {
  override name = 'ServerError';
  declare readonly code: ServerErrorCode;
  constructor(message: string, code: ServerErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

export type SessionErrorCode =
  /** The experiment's load settings differ from the session's (it needs a session of its own). */
  | 'LOAD_SETTINGS_DIFFER'
  /** The session was closed by its owner. */
  | 'SESSION_CLOSED'
  /** A run is still in flight: a session runs one experiment at a time. */
  | 'SESSION_BUSY'
  /** This launcher or experiment cannot run in a session (see `sessionSupport`). */
  | 'SESSION_UNSUPPORTED';

/** A `WorkerSession` used wrongly (a failing experiment is an outcome, never this). */
export class SessionError extends LauncherError {
  override name = 'SessionError';
  declare readonly code: SessionErrorCode;
  constructor(message: string, code: SessionErrorCode, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
