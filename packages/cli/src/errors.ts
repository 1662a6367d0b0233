/** Exit codes of the `joules` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** An error that ends the command with a given exit code and a message for the user (no stack). */
export class ExitError extends Error {
  override name = 'ExitError';
  readonly code = 'CLI_EXIT';
  readonly exitCode: number;
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}
