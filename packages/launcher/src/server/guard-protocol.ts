import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What start-server hands the guard (server-guard.ts), as JSON in {@link GUARD_SPEC_ENV}. */
export interface GuardSpec {
  /** The server's command line, placeholders replaced. */
  argv: string[];
  /** More environment for the server (over the guard's own). */
  env: Record<string, string>;
  /** The server's stdout and stderr are appended here. */
  logFile: string;
  /** SIGTERM → SIGKILL grace when stopping. */
  graceMs: number;
  /** The launch marker's id (process-tree.ts): every process carrying it is the server's. */
  launchId: string;
}

export const GUARD_SPEC_ENV = 'JOULES_SERVER_SPEC';

/** One line of the guard's stdout. */
export type GuardEvent =
  | { event: 'spawned'; pid: number }
  | { event: 'spawn-error'; message: string; code?: string }
  | { event: 'exit'; code: number | null; signal: string | null };

/**
 * Node's arguments that run the guard: the built `server-guard.js` beside this module, or, where
 * this module runs from src/ (the tests run the source), `server-guard.ts` through tsx.
 */
export function guardArgs(): string[] {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  if (here.endsWith('.js')) return [path.join(dir, 'server-guard.js')];
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(tsx).href, path.join(dir, 'server-guard.ts')];
}
