import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { LaunchSetupError } from './errors.js';
import type { CommandLine, LaunchEvent, TimeoutKind } from './launcher.js';
import { LAUNCH_MARKER, newLaunchId, signalTree, trackLaunch, untrackLaunch, waitTreeGone } from './process-tree.js';
import { parseWorkerEventLine } from './worker-events.js';

export interface ProcessRun {
  exitCode: number | null;
  signal: string | null;
  /** Which limit stopped the run, if one did. */
  timedOut: TimeoutKind | null;
  aborted: boolean;
  durationMs: number;
  /** Processes of the launch still alive after the final SIGKILL sweep (normally none). */
  survivors: number[];
}

export interface RunProcessOptions {
  logFile: string;
  /** A line written to the log before the process starts. */
  header?: string;
  timeoutMs?: number;
  silenceTimeoutMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent) => void;
  /** Time between the polite signal and SIGKILL of the process tree. */
  killGraceMs?: number;
}

export const DEFAULT_KILL_GRACE_MS = 3000;
const INTERRUPT_SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);

/** The signal to forward for an abort reason: the CLI aborts with the signal it received. */
export function forwardedSignal(reason: unknown): NodeJS.Signals {
  return typeof reason === 'string' && INTERRUPT_SIGNALS.has(reason) ? (reason as NodeJS.Signals) : 'SIGTERM';
}

/**
 * Run one worker command in its own process group, every process of it marked (see
 * process-tree.ts). Stdout lines that are worker events are reported; everything goes to the log
 * file. On timeout or abort the whole tree gets the polite signal, then SIGKILL after the grace
 * period; whatever outlives the launcher process is killed too, and waited for, before this returns.
 */
export async function runProcess(cmd: CommandLine, options: RunProcessOptions): Promise<ProcessRun> {
  await mkdir(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  if (options.header) log.write(`${options.header}\n`);
  const launchId = newLaunchId();
  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const started = Date.now();
  const child = execa(cmd.file, cmd.args, {
    env: { ...cmd.env, [LAUNCH_MARKER]: launchId },
    extendEnv: true,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  const pid = child.pid;
  if (pid !== undefined) trackLaunch(launchId, pid);

  let timedOut: TimeoutKind | null = null;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timers: NodeJS.Timeout[] = [];
  const stop = (signal: NodeJS.Signals) => {
    if (pid === undefined || killTimer) return;
    for (const t of timers) clearTimeout(t);
    void signalTree(pid, launchId, signal);
    killTimer = setTimeout(() => void signalTree(pid, launchId, 'SIGKILL'), grace);
  };
  const expire = (kind: TimeoutKind) => () => {
    if (killTimer) return;
    timedOut = kind;
    stop('SIGTERM');
  };
  if (options.timeoutMs) timers.push(setTimeout(expire('wall-clock'), options.timeoutMs));
  const silence = options.silenceTimeoutMs ? setTimeout(expire('silence'), options.silenceTimeoutMs) : undefined;
  if (silence) timers.push(silence);
  const heard = () => silence?.refresh();
  const onAbort = () => {
    aborted = true;
    stop(forwardedSignal(options.signal?.reason));
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // The launcher process is gone: anything of its tree still running is an orphan (a rank whose
  // agent died) and may hold a GPU or the output pipe. Kill it now, unless a stop is under way:
  // then it keeps the rest of its grace period.
  child.once('exit', () => pid !== undefined && !killTimer && void signalTree(pid, launchId, 'SIGKILL'));

  if (pid !== undefined) options.onEvent?.({ type: 'started', pid, command: [cmd.file, ...cmd.args] });
  child.stdout?.on('data', heard);
  const lines = child.stdout ? createInterface({ input: child.stdout, crlfDelay: Infinity }) : undefined;
  lines?.on('line', (line) => {
    log.write(`${line}\n`);
    const event = parseWorkerEventLine(line);
    if (event) options.onEvent?.({ type: 'worker', event });
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    heard();
    log.write(chunk);
  });

  const result = await child;
  for (const t of timers) clearTimeout(t);
  options.signal?.removeEventListener('abort', onAbort);
  let survivors: number[] = [];
  if (pid !== undefined) {
    await signalTree(pid, launchId, 'SIGKILL');
    survivors = await waitTreeGone(launchId, grace + 2000);
  }
  if (killTimer) clearTimeout(killTimer);
  untrackLaunch(launchId);
  await new Promise<void>((resolve) => log.end(resolve));

  if (result.exitCode === undefined && result.signal === undefined) {
    throw new LaunchSetupError(`cannot start ${cmd.file}: ${result.shortMessage ?? result.message}`, { cause: result });
  }
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  options.onEvent?.({ type: 'exited', exitCode, signal });
  return { exitCode, signal, timedOut, aborted, durationMs: Date.now() - started, survivors };
}
