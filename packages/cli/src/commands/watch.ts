import path from 'node:path';
import { startWatch, WatchListenError, WatchOptionsError, type WatchServer } from '@joules/watch';
import { EXIT, ExitError } from '../errors.js';
import type { Output } from '../output.js';

export interface WatchCommandOptions {
  resultsDir?: string;
  port?: number;
  host?: string;
  /** Default: $JOULES_WATCH_TOKEN (keeps it out of the process list). */
  token?: string;
  cwd?: string;
  signal?: AbortSignal;
  /** Called once the server listens (tests). */
  onListening?: (url: string) => void;
}

/** `joules watch`: serve the dashboard of a results folder until Ctrl-C. */
export async function watch(options: WatchCommandOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const token = options.token ?? (process.env.JOULES_WATCH_TOKEN || undefined);
  let server: WatchServer;
  try {
    server = await startWatch({
      resultsDir: path.resolve(cwd, options.resultsDir ?? 'results'),
      ...(options.port !== undefined && { port: options.port }),
      ...(options.host !== undefined && { host: options.host }),
      ...(token !== undefined && { token }),
      onProblem: (e) => output.err(`watch: ${e instanceof Error ? e.message : String(e)}`),
    });
  } catch (error) {
    if (error instanceof WatchOptionsError) throw new ExitError(EXIT.usage, error.message);
    if (error instanceof WatchListenError) throw new ExitError(EXIT.failed, error.message);
    throw error;
  }
  output.out(
    `watching ${path.resolve(cwd, options.resultsDir ?? 'results')} at ${server.url}${token ? '?token=<token>' : ''} (Ctrl-C to stop)`,
  );
  options.onListening?.(server.url);
  if (!options.signal?.aborted)
    await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
  await server.close();
  return EXIT.ok;
}
