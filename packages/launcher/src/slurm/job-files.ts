import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LaunchJob } from '../launcher.js';
import type { NodeJobSpec } from '../server/node-job.js';

/** The folder of a job's Slurm files (script, config, token, node markers, submit record). */
export const slurmJobDir = (job: LaunchJob) => path.join(job.outputDir, 'slurm');

/** A file of the job's folder: `experiment.json`, `token`, `server-job.json`, `job.sh`, `submit.json`. */
export const slurmJobFile = (job: LaunchJob, name: string) => path.join(slurmJobDir(job), name);

/** What `<outputDir>/slurm/submit.json` records of a submitted job. */
export interface SubmitRecord {
  jobId: string;
  command: string[];
  submittedAt: string;
}

/** The job id submitted for `job` by an earlier launch, if any (for a reattach after a crash). */
export async function findSubmittedJob(job: LaunchJob): Promise<SubmitRecord | undefined> {
  try {
    const data = JSON.parse(await readFile(slurmJobFile(job, 'submit.json'), 'utf8')) as SubmitRecord;
    return typeof data.jobId === 'string' ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Write submit.json through a temp file and a rename: a restart reading it sees the whole record or none. */
export async function recordSubmission(job: LaunchJob, record: SubmitRecord): Promise<void> {
  const file = slurmJobFile(job, 'submit.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

/**
 * The job's folder, fresh (0700): the experiment and the token (0600), the node job's spec of an
 * engine "server" job, and the batch script. The log's folder is created too.
 */
export async function writeJobFiles(
  job: LaunchJob,
  files: { token: string; serving: NodeJobSpec | undefined; script: string },
): Promise<void> {
  const dir = slurmJobDir(job);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(job.logFile), { recursive: true });
  await writeFile(slurmJobFile(job, 'experiment.json'), `${JSON.stringify(job.experiment, null, 2)}\n`, {
    mode: 0o600,
  });
  await writeFile(slurmJobFile(job, 'token'), files.token, { mode: 0o600 });
  if (files.serving) {
    await writeFile(slurmJobFile(job, 'server-job.json'), `${JSON.stringify(files.serving, null, 2)}\n`, {
      mode: 0o600,
    });
  }
  await writeFile(slurmJobFile(job, 'job.sh'), files.script, { mode: 0o700 });
}
