export type GpuCheckErrorCode =
  | 'BAD_EXPERIMENT'
  | 'BAD_ARGS'
  | 'MISSING_FILE'
  | 'BAD_BUNDLE'
  | 'BAD_RANK_FILE'
  | 'BAD_DOC'
  | 'KIT_FAILED';

export class GpuCheckError extends Error {
  override readonly name = 'GpuCheckError';
  constructor(
    message: string,
    readonly code: GpuCheckErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
