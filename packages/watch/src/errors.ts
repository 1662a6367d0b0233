/** Errors of @joules/watch. Each carries a stable string `code`. */
export class WatchError extends Error {
  override name = 'WatchError';
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Options that cannot be served safely or at all (another host without a token, a bad port). */
export class WatchOptionsError extends WatchError {
  override name = 'WatchOptionsError';
  constructor(message: string, code: 'WATCH_TOKEN_REQUIRED' | 'WATCH_BAD_PORT' | 'WATCH_BAD_TOKEN') {
    super(message, code);
  }
}

/** The server could not listen (the port is taken, the address is not this machine's). */
export class WatchListenError extends WatchError {
  override name = 'WatchListenError';
  constructor(host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`joules watch cannot listen on ${host}:${port}${code ? ` (${code})` : ''}`, 'WATCH_LISTEN_FAILED', { cause });
  }
}
