/** Errors of @joules/runner. Each carries a stable string `code`. */
export class RunnerError extends Error {
  override name = 'RunnerError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The Python that runs the worker (or accelerate beside it) is not there. */
export class WorkerEnvError extends RunnerError {
  override name = 'WorkerEnvError';
  readonly file: string;
  constructor(file: string) {
    super(
      `worker environment not found: ${file} is missing.\n` +
        'Run `npm run bootstrap` in the Joules checkout, or point --python / JOULES_PYTHON at a Python ' +
        'with joules_worker, torch, transformers and accelerate installed.',
      'WORKER_ENV_MISSING',
    );
    this.file = file;
  }
}

/** An experiment or suite file that cannot run: every problem, one per line (`file:line path: message`). */
export class RunConfigError extends RunnerError {
  override name = 'RunConfigError';
  readonly errors: readonly string[];
  constructor(errors: readonly string[]) {
    super(errors.join('\n'), 'CONFIG_INVALID');
    this.errors = errors;
  }
}

/** Options of runExperiment / runSuite that make no sense (the message names the option). */
export class RunOptionsError extends RunnerError {
  override name = 'RunOptionsError';
  constructor(message: string) {
    super(message, 'BAD_OPTIONS');
  }
}
