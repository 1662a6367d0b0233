import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rm, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { LockTimeoutError } from './errors.js';
import { asOwner, currentOwner, ownerAlive, type ProcessOwner } from './owner.js';

/** A lock file whose content is missing or cut (its writer died right after creating it) is stale after this. */
const UNREADABLE_GRACE_MS = 2_000;

interface LockState {
  owner?: ProcessOwner;
  token?: string;
  mtimeMs: number;
  /** A directory: a lock left by the earlier proper-lockfile implementation. */
  isDir: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isCode = (error: unknown, ...codes: string[]) => codes.includes((error as NodeJS.ErrnoException).code ?? '');

async function readLock(file: string): Promise<LockState | undefined> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) return { mtimeMs: st.mtimeMs, isDir: true };
    const state: LockState = { mtimeMs: st.mtimeMs, isDir: false };
    try {
      const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const owner = asOwner(value.owner);
      if (owner && typeof value.token === 'string') Object.assign(state, { owner, token: value.token });
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    return state;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/**
 * Stale when its owner is known dead (same host: pid gone or reused), else when not refreshed
 * for `staleMs` (owner on another host), or unreadable for a short grace.
 */
function isStale(state: LockState, staleMs: number): boolean {
  if (state.owner) {
    const alive = ownerAlive(state.owner);
    if (alive !== undefined) return !alive;
  }
  const age = Date.now() - state.mtimeMs;
  return state.owner || state.isDir ? age > staleMs : age > Math.min(staleMs, UNREADABLE_GRACE_MS);
}

/** Exclusive create; false when the file exists. */
async function tryCreate(file: string, text: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx', 0o644);
  } catch (error) {
    if (isCode(error, 'EEXIST')) return false;
    throw error;
  }
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Remove a stale lock, under a short guard so that two processes judging the same stale lock
 * cannot both remove it (the second would delete the first one's fresh lock).
 */
async function takeOver(file: string, judged: LockState, staleMs: number, text: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  if (!(await tryCreate(guard, text))) {
    const g = await readLock(guard);
    if (g && isStale(g, staleMs)) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const now = await readLock(file);
    if (!now) return true;
    const same =
      now.token === judged.token &&
      now.isDir === judged.isDir &&
      (now.token !== undefined || now.mtimeMs === judged.mtimeMs);
    if (same && isStale(now, staleMs)) await rm(file, { recursive: now.isDir, force: true });
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

export interface LockOptions {
  /** A lock held by a process on another host is stale when not refreshed for this long. Default 30 s. */
  staleMs?: number;
  /** Give up (LockTimeoutError) after waiting this long. Default 120 s. */
  timeoutMs?: number;
}

/**
 * Take an exclusive cross-process lock: the file `lockFile` created with O_EXCL, holding the
 * owner's pid, host and start time. A lock left by a dead process on this host is taken over at
 * once; one from another host when its mtime (refreshed while held) is older than `staleMs`.
 * Returns the release function.
 */
export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  await mkdir(path.dirname(lockFile), { recursive: true });
  const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const text = JSON.stringify({ owner: currentOwner(), token, at: new Date().toISOString() });
  let delay = 1;
  while (!(await tryCreate(lockFile, text))) {
    const state = await readLock(lockFile);
    if (state && isStale(state, staleMs) && (await takeOver(lockFile, state, staleMs, text))) continue;
    if (Date.now() > deadline) throw new LockTimeoutError(lockFile);
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 1.5, 100);
  }
  const refresh = setInterval(
    () => {
      const now = new Date();
      utimes(lockFile, now, now).catch(() => undefined);
    },
    Math.max(1_000, staleMs / 3),
  );
  refresh.unref();
  return async () => {
    clearInterval(refresh);
    const state = await readLock(lockFile);
    if (state?.token === token)
      await unlink(lockFile).catch((error) => (isCode(error, 'ENOENT') ? undefined : Promise.reject(error)));
  };
}

/**
 * Run `fn` while holding the exclusive lock `<dir>/<name>.lock` (works across processes; see
 * acquireLock for when a lock left behind is taken over).
 */
export async function withLock<T>(dir: string, name: string, fn: () => Promise<T>, staleMs = 30_000): Promise<T> {
  const release = await acquireLock(path.join(dir, `${name}.lock`), { staleMs });
  try {
    return await fn();
  } finally {
    await release();
  }
}
