import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Every process a launch starts carries JOULES_LAUNCH_ID=<id> in its environment. A process group
 * is not enough: torch's elastic agent (behind `accelerate launch --multi_gpu`) starts each rank in
 * a session of its own, and a rank whose launcher died is re-parented away from the tree. The
 * marker finds them all, as Jenkins' ProcessTreeKiller finds a build's processes by BUILD_ID.
 */
export const LAUNCH_MARKER = 'JOULES_LAUNCH_ID';

let launches = 0;
export function newLaunchId(): string {
  return `${process.pid}-${++launches}-${randomBytes(4).toString('hex')}`;
}

/** Live processes whose environment carries the marker (Linux /proc; none elsewhere). Zombies have no environment. */
export async function markedPids(id: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(`\0${LAUNCH_MARKER}=${id}\0`);
  const zero = Buffer.from([0]);
  const found = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)
      .map(async (n) => {
        try {
          const env = await readFile(`/proc/${n}/environ`);
          return Buffer.concat([zero, env, zero]).includes(needle) ? Number(n) : undefined;
        } catch {
          return undefined; // gone, or not ours to read
        }
      }),
  );
  return found.filter((pid): pid is number => pid !== undefined);
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Signal the launch's process group (led by `rootPid`) and every marked process outside it, all in
 * one go after the scan: a rank gets the signal before its launcher can react to it by exiting.
 */
export async function signalTree(rootPid: number, id: string, signal: NodeJS.Signals): Promise<void> {
  const marked = await markedPids(id);
  // Members of the group get the group's signal; a second one would reach them twice.
  const outside = (
    await Promise.all(marked.map(async (pid) => ((await processGroup(pid)) === rootPid ? undefined : pid)))
  ).filter((pid): pid is number => pid !== undefined);
  kill(-rootPid, signal);
  for (const pid of outside) kill(pid, signal);
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), undefined when unknown. */
async function processGroup(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(pgrp) ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** Wait until no marked process is left, up to `timeoutMs`; returns the pids still alive. */
export async function waitTreeGone(id: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await markedPids(id);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await sleep(25);
  }
}

/** Launches running now in this process: marker id → pid of the launcher process (its group). */
const running = new Map<string, number>();
export const trackLaunch = (id: string, rootPid: number) => void running.set(id, rootPid);
export const untrackLaunch = (id: string) => void running.delete(id);

/**
 * Live processes carrying any of the launches' markers, scanned synchronously: for an exit handler
 * or the server guard, which cannot wait for a promise. Empty where there is no /proc.
 */
export function markedPidsSync(ids: readonly string[]): number[] {
  const needles = ids.map((id) => Buffer.from(`\0${LAUNCH_MARKER}=${id}\0`));
  let names: string[] = [];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid);
  } catch {
    return [];
  }
  const zero = Buffer.from([0]);
  return names
    .filter((n) => {
      try {
        const env = Buffer.concat([zero, readFileSync(`/proc/${n}/environ`), zero]);
        return needles.some((needle) => env.includes(needle));
      } catch {
        return false; // gone, or not ours
      }
    })
    .map(Number);
}

/** Signal the group `rootPid` leads and every process carrying the marker `id`, synchronously. */
export function signalTreeSync(rootPid: number | undefined, id: string, signal: NodeJS.Signals): void {
  if (rootPid !== undefined) kill(-rootPid, signal);
  for (const pid of markedPidsSync([id])) kill(pid, signal);
}

/**
 * Signal every running launch's tree at once, synchronously (SIGKILL by default): for a CLI's
 * second Ctrl-C or its `exit` handler, when there is no time left for a graceful stop. Returns
 * how many marked processes were found (and signalled).
 */
export function killRunningLaunches(signal: NodeJS.Signals = 'SIGKILL'): number {
  if (running.size === 0) return 0;
  const marked = markedPidsSync([...running.keys()]);
  for (const root of running.values()) kill(-root, signal);
  for (const pid of marked) kill(pid, signal);
  return marked.length;
}
