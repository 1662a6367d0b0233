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
