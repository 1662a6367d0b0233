import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPid, liveProcess } from './__fixtures__/processes.js';
import { LockTimeoutError } from './errors.js';
import { acquireLock, withLock } from './lock.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-lock-'));
const HOUR = 3_600_000;
const children: ReturnType<typeof liveProcess>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

const lockOf = (pid: number, host = os.hostname()) => JSON.stringify({ owner: { pid, host }, token: `t${pid}` });
const past = async (file: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  await utimes(file, t, t);
};

describe('acquireLock', () => {
  it('excludes: concurrent read-modify-write sections never interleave', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'n');
    await writeFile(file, '0');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(dir, 'n', async () => {
          const n = Number(await readFile(file, 'utf8'));
          await new Promise((r) => setTimeout(r, 1));
          await writeFile(file, String(n + 1));
        }),
      ),
    );
    expect(await readFile(file, 'utf8')).toBe('20');
  });

  it('takes over at once a lock whose owner died on this host (never waiting for staleness)', async () => {
    const file = path.join(await tmp(), 'x.lock');
    await writeFile(file, lockOf(await deadPid()));
    const release = await acquireLock(file, { staleMs: HOUR, timeoutMs: 10_000 });
    expect(JSON.parse(await readFile(file, 'utf8')).owner.pid).toBe(process.pid);
    await release();
  });

  it('waits for a live owner, and gives up with LockTimeoutError', async () => {
    const file = path.join(await tmp(), 'x.lock');
    const child = liveProcess();
    children.push(child);
    await writeFile(file, lockOf(child.pid!));
    await past(file, 2 * HOUR);
    await expect(acquireLock(file, { staleMs: HOUR, timeoutMs: 200 })).rejects.toBeInstanceOf(LockTimeoutError);
  });

  it('judges a lock from another host by its age', async () => {
    const file = path.join(await tmp(), 'x.lock');
    await writeFile(file, lockOf(1, 'elsewhere'));
    await expect(acquireLock(file, { staleMs: HOUR, timeoutMs: 200 })).rejects.toBeInstanceOf(LockTimeoutError);
    await past(file, 2 * HOUR);
    await (await acquireLock(file, { staleMs: HOUR, timeoutMs: 10_000 }))();
  });

  it('takes over an empty lock file (writer died right after creating it) after a short grace', async () => {
    const file = path.join(await tmp(), 'x.lock');
    await writeFile(file, '');
    await expect(acquireLock(file, { staleMs: HOUR, timeoutMs: 200 })).rejects.toBeInstanceOf(LockTimeoutError);
    await past(file, 5_000);
    await (await acquireLock(file, { staleMs: HOUR, timeoutMs: 10_000 }))();
  });

  it('takes over an old lock folder left by the earlier proper-lockfile locks', async () => {
    const file = path.join(await tmp(), 'x.lock');
    await mkdir(file);
    await past(file, 2 * HOUR);
    await (await acquireLock(file, { staleMs: HOUR, timeoutMs: 10_000 }))();
  });

  it('release leaves a lock alone that is no longer its own', async () => {
    const file = path.join(await tmp(), 'x.lock');
    const release = await acquireLock(file);
    await writeFile(file, lockOf(process.pid));
    await release();
    expect(await readFile(file, 'utf8')).toBe(lockOf(process.pid));
  });
});
