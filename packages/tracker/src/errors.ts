/** Errors of @joules/tracker. Each carries a stable string `code`. */
export class TrackerError extends Error {
  override name = 'TrackerError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The results folder could not be locked in time (another process holds it). */
export class LockTimeoutError extends TrackerError {
  override name = 'LockTimeoutError';
  constructor(target: string, options?: { cause?: unknown }) {
    super(`could not lock ${target}: another Joules process holds it`, 'LOCK_TIMEOUT', options);
  }
}

/** A file in the results folder is not what Joules wrote (corrupt counter, foreign CSV...). */
export class ResultsFileError extends TrackerError {
  override name = 'ResultsFileError';
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, 'RESULTS_FILE', options);
    this.file = file;
  }
}

/** A caller passed something the tracker cannot record (the message names the field). */
export class TrackerInputError extends TrackerError {
  override name = 'TrackerInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INVALID_INPUT', options);
  }
}

/** A progress update that the key's current state does not allow (e.g. finishing a key not running). */
export class ProgressStateError extends TrackerError {
  override name = 'ProgressStateError';
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`, 'PROGRESS_STATE');
    this.key = key;
  }
}

/** DuckDB rejected a query on the results folder (bad SQL, a table that does not exist yet...). */
export class ResultsQueryError extends TrackerError {
  override name = 'ResultsQueryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'QUERY_FAILED', options);
  }
}
