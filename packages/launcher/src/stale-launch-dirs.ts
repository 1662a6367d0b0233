import { readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Private config folders are named `joules-launch-<pid>.<boot>.<start>-XXXXXX`: the owner's pid,
 * the first 8 hex of the boot id and the process start time in clock ticks (both from /proc, empty
 * where there is none), then mkdtemp's random suffix. A folder whose owner is gone (killed with
 * SIGKILL, so its `finally` never ran) is removed by the next launch on the host.
 */
const OWNED = /^joules-launch-(\d+)\.([0-9a-f]*)\.(\d*)-[A-Za-z0-9]{6}$/;
/** Folders of versions before the owner was in the name: removed once older than a day. */
const LEGACY = /^joules-launch-[A-Za-z0-9]{6}$/;
const LEGACY_MAX_AGE_MS = 24 * 3600_000;

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replaceAll('-', '').slice(0, 8);
  } catch {
    return '';
  }
}

/** A process's start time in clock ticks since boot; null when it does not run (or is a zombie); '' without /proc. */
export function processStartTicks(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return hasProc() ? null : '';
    return '';
  }
  // Fields after the ")" that closes the command name (which may hold spaces): state is the 1st, starttime the 20th.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return fields[19] ?? '';
}

function hasProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

let self: string | undefined;

/** The mkdtemp prefix of this process's private config folders. */
export function launchDirPrefix(): string {
  self ??= `joules-launch-${process.pid}.${readBootId()}.${processStartTicks(process.pid) ?? ''}-`;
  return self;
}

/** Whether the process that made a folder named like OWNED may still run (unknown counts as alive). */
function ownerAlive(pid: number, boot: string, start: string): boolean {
  if (pid === process.pid) return true;
  const bootNow = readBootId();
  if (boot && bootNow && boot !== bootNow) return false; // made before a reboot
  const ticks = processStartTicks(pid);
  if (ticks === null) return false;
  if (ticks !== '' && start !== '') return ticks === start; // another start time: the pid was reused
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove private config folders in `dir` (the temp dir) whose owner no longer runs, and legacy
 * ones older than a day. Never throws: a folder that cannot be read or removed (another user's)
 * is left. Returns the folders removed.
 */
export async function sweepStaleLaunchDirs(dir = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const owned = OWNED.exec(name);
    let stale = false;
    if (owned) stale = !ownerAlive(Number(owned[1]), owned[2]!, owned[3]!);
    else if (LEGACY.test(name)) {
      const st = await stat(path.join(dir, name)).catch(() => undefined);
      stale = st?.isDirectory() === true && st.mtimeMs < Date.now() - LEGACY_MAX_AGE_MS;
    }
    if (!stale) continue;
    const target = path.join(dir, name);
    try {
      await rm(target, { recursive: true, force: true });
      removed.push(target);
    } catch {
      // not ours to remove (another user's folder in a shared temp dir): leave it
    }
  }
  return removed;
}
