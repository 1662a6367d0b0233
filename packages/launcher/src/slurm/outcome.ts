import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { kindFromExitCode, rankFiles, readWorkerErrors } from '../classify.js';
import type { LaunchJob, LaunchOutcome, OutcomeKind, ServerOutcomeKind } from '../launcher.js';
import { SERVER_ERROR_FILE } from '../server/node-job.js';
import { slurmJobDir } from './job-files.js';
import type { SlurmJobInfo } from './job-state.js';
import type { WatchEnd } from './watch.js';

/** How a finished Slurm job is judged, besides the worker's own files. */
export interface JobEnd {
  jobId: string;
  /** undefined: Slurm no longer knows the job (no accounting): only the files can tell. */
  info: SlurmJobInfo | undefined;
  job: LaunchJob;
  command: readonly string[];
  durationMs: number;
  /** How long to wait for rank files a COMPLETED job should have written (shared file systems lag). */
  settleMs: number;
}

/** Slurm's end states that are not the worker's doing, and the failure kind each one means. */
export const STATE_KINDS: Readonly<Record<string, OutcomeKind>> = {
  OUT_OF_MEMORY: 'oom',
  TIMEOUT: 'timeout',
  DEADLINE: 'timeout',
  PREEMPTED: 'transient',
  NODE_FAIL: 'transient',
  BOOT_FAIL: 'transient',
};

/** The node ids (`seen-<nodeid>` files) that confirmed they see the job's folder. */
export async function nodesThatSaw(jobDir: string): Promise<Set<number>> {
  const names = await readdir(jobDir).catch(() => [] as string[]);
  return new Set(names.flatMap((n) => (/^seen-\d+$/.test(n) ? [Number(n.slice(5))] : [])));
}

/** The `world_size` each rank file reports, for those that say one. */
async function worldSizes(files: readonly string[]): Promise<number[]> {
  const sizes: number[] = [];
  for (const file of files) {
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as { world_size?: unknown };
      if (typeof data.world_size === 'number') sizes.push(data.world_size);
    } catch {
      // Unreadable here: the caller's own validation of the raw measurement will say so.
    }
  }
  return sizes;
}

const SERVER_KINDS = new Set<string>(['server_start_failed', 'server_crashed', 'server_unreachable']);

/** `<job dir>/server-error.json` of a server job, when its server failed. */
async function readServerError(jobDir: string): Promise<{ kind: ServerOutcomeKind; message: string } | undefined> {
  try {
    const data = JSON.parse(await readFile(path.join(jobDir, SERVER_ERROR_FILE), 'utf8')) as Record<string, unknown>;
    if (typeof data.kind === 'string' && SERVER_KINDS.has(data.kind) && typeof data.message === 'string')
      return { kind: data.kind as ServerOutcomeKind, message: data.message };
  } catch {
    // None: the server did not fail (or this is not a server job).
  }
  return undefined;
}

/** A job the launcher cancelled (abort, or silence past job.silenceTimeoutMs): `interrupted`, or `failed` with kind timeout. */
export function cancelledOutcome(
  end: Extract<WatchEnd, { end: 'cancelled' }>,
  o: Pick<JobEnd, 'jobId' | 'job' | 'command' | 'durationMs'>,
): LaunchOutcome {
  const { jobId, job, command, durationMs } = o;
  if (end.why === 'silence') {
    const message = `Slurm job ${jobId} wrote nothing to its log for ${job.silenceTimeoutMs} ms; cancelled`;
    return {
      status: 'failed',
      kind: 'timeout',
      timeout: 'silence',
      message,
      exitCode: end.info?.exitCode ?? null,
      signal: end.info?.signal ?? null,
      errors: [],
      durationMs,
      command,
    };
  }
  const message = end.cancelFailed
    ? `${end.cancelFailed}; Slurm job ${jobId} may still be queued or running`
    : `Slurm job ${jobId} cancelled (scancel)`;
  return { status: 'interrupted', message, durationMs, command };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Map a job that ended on its own onto a LaunchOutcome: Slurm's state first, then the worker's
 * files. (A job the launcher cancelled itself is `interrupted` before it gets here.)
 */
export async function jobOutcome(end: JobEnd): Promise<LaunchOutcome> {
  const { info, job, command, durationMs, jobId } = end;
  const exitCode = info?.exitCode ?? null;
  const signal = info?.signal ?? null;
  const state = info?.state;
  const where = `Slurm job ${jobId}`;
  const n = job.experiment.num_processes;
  let errors = await readWorkerErrors(job.outputDir);
  let { files, missing } = await rankFiles(job.outputDir, n);
  // A completed job wrote its files on other nodes; a shared file system may show them late.
  for (
    let waited = 0;
    (state === 'COMPLETED' || !info) && missing.length > 0 && errors.length === 0 && waited < end.settleMs;
    waited += 1000
  ) {
    await sleep(1000);
    errors = await readWorkerErrors(job.outputDir);
    ({ files, missing } = await rankFiles(job.outputDir, n));
  }
  const failed = (kind: OutcomeKind, message: string): LaunchOutcome => ({
    status: 'failed',
    kind,
    message,
    exitCode,
    signal,
    errors,
    durationMs,
    command,
    ...(kind === 'timeout' && { timeout: 'wall-clock' as const }),
  });

  const stateKind = state ? STATE_KINDS[state] : undefined;
  if (stateKind)
    return failed(stateKind, `${where} ended ${state}${info?.reason ? ` (${info.reason})` : ''}; see ${job.logFile}`);
  if (state === 'CANCELLED')
    return failed('other', `${where} was cancelled outside Joules (scancel or an administrator)`);
  // Engine "server": the job's node job says why the server failed (server/node-job.ts).
  const server = await readServerError(slurmJobDir(job));
  if (server) return failed(server.kind, `${where}: ${server.message}`);
  if ((state === 'COMPLETED' || !info) && missing.length === 0 && errors.length === 0) {
    const wrong = (await worldSizes(files)).filter((w) => w !== n);
    if (wrong.length === 0) return { status: 'succeeded', rankFiles: files, exitCode: 0, durationMs, command };
    return failed(
      'other',
      `the ranks report world_size ${wrong.join(', ')}, not ${n}: the processes did not form one world; see ${job.logFile}`,
    );
  }
  const first = errors[0];
  if (first) return failed(first.kind, `rank ${first.rank}: ${first.message}`);
  if (!info)
    return failed(
      'crashed',
      `${where} is no longer known to Slurm (no accounting) and left no result for rank(s) ${missing.join(', ')}`,
    );
  if (state === 'COMPLETED')
    return failed(
      'crashed',
      `${where} completed but wrote no result for rank(s) ${missing.join(', ')}; see ${job.logFile}`,
    );
  const kind = kindFromExitCode(exitCode) ?? 'other';
  return failed(
    kind,
    `${where} ended ${state} (exit code ${exitCode ?? '?'}${signal ? `, ${signal}` : ''}); see ${job.logFile}`,
  );
}
