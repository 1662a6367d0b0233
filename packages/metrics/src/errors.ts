/**
 * Errors of @joules/metrics. Each carries a stable string `code`. They extend `RangeError`
 * (what this package threw before it had its own errors), so older `instanceof RangeError`
 * checks keep working.
 */
export type MetricsErrorCode =
  | 'NO_RANKS'
  | 'DUPLICATE_RANK'
  | 'WORLD_SIZE_MISMATCH'
  | 'RANK_OUT_OF_RANGE'
  | 'BAD_OPTION'
  | 'BAD_RECORD';

export class MetricsError extends RangeError {
  override name = 'MetricsError';
  readonly code: MetricsErrorCode;
  constructor(message: string, code: MetricsErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
