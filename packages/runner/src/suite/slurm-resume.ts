import { readdir } from 'node:fs/promises';
import { findSubmittedJob, type Launcher, type LaunchJob, querySlurmJob, SlurmLauncher } from '@joules/launcher';
import type { ProgressEntry } from '@joules/tracker';

/** How the journal names a Slurm job (`ProgressEntry.job`). */
export const SLURM_JOB_PREFIX = 'slurm:';
export const slurmJobHandle = (jobId: string) => `${SLURM_JOB_PREFIX}${jobId}`;

/** A Slurm job of an earlier `joules suite` that this one follows instead of submitting anew. */
export interface Reattach {
  /** The experiment id of that attempt: its work folder, log and results keep it. */
  experimentId: string;
  jobId: string;
  /** What Slurm says of it now, for the user. */
  state: string;
  /** Attaches to the job on its first launch; retries submit anew. */
  launcher: Launcher;
}

const WORKER_FILE = /^(?:error-)?rank-\d+\.json$/;

async function leftFiles(outputDir: string): Promise<boolean> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  return names.some((n) => WORKER_FILE.test(n));
}

/**
 * The Slurm job to reattach to for a key a resumed suite runs again, if any. Only an attempt that
 * was cut short (its process died, or it was detached: status `running` or `interrupted`) counts.
 * The job id comes from the journal, else from the `submit.json` beside the job (killed between
 * sbatch and the journal write). Reattached: a job Slurm still knows, unless cancelled (Ctrl-C
 * without --detach cancels: then it runs anew), or one Slurm forgot that left worker files.
 * `job` is the launch job of the previous attempt (its experiment id's folders).
 */
export async function slurmReattach(
  previous: ProgressEntry | undefined,
  launcher: Launcher,
  job: LaunchJob,
): Promise<Reattach | undefined> {
  if (!(launcher instanceof SlurmLauncher) || !previous?.experimentId) return undefined;
  if (previous.status !== 'running' && previous.status !== 'interrupted') return undefined;
  const journalId = previous.job?.startsWith(SLURM_JOB_PREFIX)
    ? previous.job.slice(SLURM_JOB_PREFIX.length)
    : undefined;
  const jobId = journalId ?? (await findSubmittedJob(job))?.jobId;
  if (!jobId) return undefined;
  const info = await querySlurmJob({}, jobId);
  let state: string;
  if (info === 'unreachable') state = 'unknown: the controller does not answer';
  else if (info === 'gone') {
    if (!(await leftFiles(job.outputDir))) return undefined;
    state = 'ended; no longer known to Slurm';
  } else if (info.state === 'CANCELLED') return undefined;
  else state = info.state;
  return { experimentId: previous.experimentId, jobId, state, launcher: launcher.resuming(jobId) };
}
