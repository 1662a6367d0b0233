import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { LockTimeoutError } from './errors.js';

/**
 * Run `fn` while holding an exclusive lock named `name` in `dir` (works across processes; a lock
 * left by a dead process goes stale after `staleMs` and is taken over).
 */
export async function withLock<T>(dir: string, name: string, fn: () => Promise<T>, staleMs = 30_000): Promise<T> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, name);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(target, {
      realpath: false,
      stale: staleMs,
      update: Math.floor(staleMs / 3),
      retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 250, randomize: true },
    });
  } catch (cause) {
    throw new LockTimeoutError(target, { cause });
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}
