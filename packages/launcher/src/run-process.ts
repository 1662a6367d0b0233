import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { LaunchSetupError } from './errors.js';
import type { CommandLine, LaunchEvent } from './types.js';
import { parseWorkerEventLine } from './worker-events.js';

export interface ProcessRun {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export interface RunProcessOptions {
  logFile: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent) => void;
  /** Time between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
}

/** Signal a whole process group (the worker and everything accelerate started). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Run one worker command in its own process group. Stdout lines that are worker events are
 * reported; everything goes to the log file. On timeout or abort the whole group gets SIGTERM,
 * then SIGKILL after the grace period, so no rank is left holding a GPU.
 */
export async function runProcess(cmd: CommandLine, options: RunProcessOptions): Promise<ProcessRun> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const started = Date.now();
  const child = execa(cmd.file, cmd.args, {
    env: cmd.env,
    extendEnv: true,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.pid === undefined || killTimer) return;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), options.killGraceMs ?? 5000);
  };
  const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), stop()), options.timeoutMs) : undefined;
  const onAbort = () => ((aborted = true), stop());
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  if (child.pid !== undefined) options.onEvent?.({ type: 'started', pid: child.pid, command: [cmd.file, ...cmd.args] });
  const lines = child.stdout ? createInterface({ input: child.stdout, crlfDelay: Infinity }) : undefined;
  lines?.on('line', (line) => {
    log.write(`${line}\n`);
    const event = parseWorkerEventLine(line);
    if (event) options.onEvent?.({ type: 'worker', event });
  });
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));

  const result = await child;
  if (timer) clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  // Ranks may outlive the launcher process itself: make sure the group is gone.
  if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  if (killTimer) clearTimeout(killTimer);
  await new Promise<void>((resolve) => log.end(resolve));

  if (result.exitCode === undefined && result.signal === undefined) {
    throw new LaunchSetupError(`cannot start ${cmd.file}: ${result.shortMessage ?? result.message}`, { cause: result });
  }
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  options.onEvent?.({ type: 'exited', exitCode, signal });
  return { exitCode, signal, timedOut, aborted, durationMs: Date.now() - started };
}
