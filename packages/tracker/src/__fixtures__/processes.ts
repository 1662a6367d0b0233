import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/** The pid of a real process that has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await once(child, 'close');
  return pid;
}

/** A real process that stays alive until killed. */
export function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}
