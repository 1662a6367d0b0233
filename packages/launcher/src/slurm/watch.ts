import type { LaunchEvent } from '../launcher.js';
import { parseWorkerEventLine } from '../worker-events.js';
import { querySlurmJob, type SlurmJobInfo, TERMINAL_STATES } from './job-state.js';
import { LogTail } from './log-tail.js';
import { type SlurmClient, scancel } from './slurm-cli.js';

export interface WatchOptions {
  client: SlurmClient;
  pollMs: number;
  logFile: string;
  /** Where this attempt's part of the (appended) log starts. */
  logOffset: number;
  /** Cancel when a running job's log stays the same this long. */
  silenceMs?: number;
  detach: boolean;
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent) => void;
}

/** How watching ended. `info` undefined: Slurm no longer knows the job. */
export type WatchEnd =
  | { end: 'finished'; info: SlurmJobInfo | undefined }
  | { end: 'cancelled'; info: SlurmJobInfo | undefined; why: 'abort' | 'silence'; cancelFailed?: string }
  | { end: 'detached' };

/** Resolves after `ms`, or at once when the signal aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Poll the job until it ends, reporting the worker events its log shows. On abort it cancels
 * the job and waits until nothing of it runs (or, detached, leaves it running).
 */
export async function watchJob(jobId: string, options: WatchOptions): Promise<WatchEnd> {
  const { client, signal } = options;
  const tail = new LogTail(options.logFile, options.logOffset);
  let lastGrowth = Date.now();
  let cancelled: 'abort' | 'silence' | undefined;
  let cancelFailed: string | undefined;
  const cancel = async (why: 'abort' | 'silence') => {
    cancelled = why;
    const done = await scancel(client, jobId).catch((error: unknown) =>
      error instanceof Error ? error.message : String(error),
    );
    if (done !== true) cancelFailed = `scancel ${jobId} ${done === false ? 'was refused' : `failed: ${done}`}`;
  };
  for (let first = true; ; first = false) {
    if (!first) await pause(cancelled ? Math.min(options.pollMs, 500) : options.pollMs, cancelled ? undefined : signal);
    if (signal?.aborted && !cancelled) {
      if (options.detach) return { end: 'detached' };
      await cancel('abort');
    }
    const { lines, grew } = await tail.read();
    for (const line of lines) {
      const event = parseWorkerEventLine(line);
      if (event) options.onEvent?.({ type: 'worker', event });
    }
    const info = await querySlurmJob(client, jobId);
    if (info === 'unreachable') {
      // The controller may come back; a cancel that could not be sent cannot be confirmed either.
      if (cancelled && cancelFailed) return { end: 'cancelled', info: undefined, why: cancelled, cancelFailed };
      continue;
    }
    if (info === 'gone' || TERMINAL_STATES.has(info.state)) {
      const known = info === 'gone' ? undefined : info;
      // A job that ended on its own before the cancel took effect keeps its real outcome.
      if (!cancelled || (known && known.state !== 'CANCELLED')) return { end: 'finished', info: known };
      return { end: 'cancelled', info: known, why: cancelled, ...(cancelFailed && { cancelFailed }) };
    }
    // Slurm refused the cancel of a job that still runs: say so rather than wait for its end.
    if (cancelled && cancelFailed) return { end: 'cancelled', info, why: cancelled, cancelFailed };
    if (info.state !== 'RUNNING' || grew) lastGrowth = Date.now();
    else if (options.silenceMs !== undefined && !cancelled && Date.now() - lastGrowth > options.silenceMs)
      await cancel('silence');
  }
}
