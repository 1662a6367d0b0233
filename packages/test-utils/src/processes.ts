import { readdir, readFile } from 'node:fs/promises';

/** Whether `pid` is a live process (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait up to `ms` for every pid to be gone; the ones still alive then ([] when all went). */
export async function stillAlive(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

/**
 * Pids of the processes whose environment holds `name=value` (Linux /proc). A tag put in a server's
 * environment finds the server and every process it started.
 */
export async function processesWithEnv(name: string, value: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const env = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (env.split('\0').includes(`${name}=${value}`)) found.push(Number(entry));
  }
  return found;
}

/** Pids of the processes whose environment names `pid` as their launching joules process (Linux /proc). */
export const workersOf = (pid: number): Promise<number[]> => processesWithEnv('JOULES_PARENT_PID', String(pid));

/**
 * `pids` and every live descendant of them (Linux /proc: each process's parent). Take it while the
 * tree stands: a process that renames itself (setproctitle) may no longer show the environment it
 * inherited, and an orphan is re-parented.
 */
export async function treeOf(pids: readonly number[]): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'latin1').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parent.set(Number(entry), ppid);
  }
  const tree = new Set(pids);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}
