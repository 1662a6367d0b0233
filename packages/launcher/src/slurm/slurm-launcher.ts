import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SlurmError } from '../errors.js';
import type { CommandLine, LaunchEvent, Launcher, LaunchJob, LaunchOptions, LaunchOutcome } from '../launcher.js';
import { findSubmittedJob, recordSubmission, slurmJobDir, slurmJobFile, writeJobFiles } from './job-files.js';
import type { SlurmJobInfo } from './job-state.js';
import { fileSize } from './log-tail.js';
import { cancelledOutcome, jobOutcome, nodesThatSaw } from './outcome.js';
import { planJob, type SlurmResources, sbatchArgs } from './resources.js';
import { batchScript, EXIT_NOT_SHARED } from './script.js';
import { NODE_JOB_MAIN, serverJobSpec } from './server-job.js';
import { expandHostlist, type SlurmClient, scancel, slurmCommand } from './slurm-cli.js';
import { watchJob } from './watch.js';

export interface SlurmLauncherOptions extends SlurmClient {
  /** `accelerate` of the worker's Python, at a path every node sees. */
  accelerateBin: string;
  /** Each job's resources, or a function picking them per job (e.g. from its experiment). */
  resources?: SlurmResources | ((job: LaunchJob) => SlurmResources);
  /** On abort, leave the jobs running (launch resolves `interrupted`); reattach later with `attach`. */
  detach?: boolean;
  /** How often squeue/scontrol are asked, in ms. Default 5000. */
  pollMs?: number;
  /** How long to wait for the rank files of a completed job to show on shared storage, in ms. Default 30000. */
  settleMs?: number;
  /** Node on the nodes, for engine "server" jobs (default: this process's, at a path every node must see). */
  nodeBin?: string;
  /** The worker's Python for engine "server" jobs (default: `python` beside `accelerateBin`). */
  pythonBin?: string;
}

/** `launch` / `attach` options: `detach` overrides the launcher's own for this job. */
export interface SlurmLaunchOptions extends LaunchOptions {
  detach?: boolean;
}

/** The `started` event of a Slurm job: `jobId` names it, `pid` is this (watching) process. */
export type SlurmStartedEvent = Extract<LaunchEvent, { type: 'started' }> & { schedulerJobId: string };

const TRANSIENT_SUBMIT = /temporarily unavailable|temporarily unable|timed out|unable to contact|try again/i;

/**
 * Runs each experiment as one sbatch job: one `accelerate launch` per allocated node forms a
 * single world of `num_processes` processes. Job state comes from scontrol (and sacct when the
 * cluster keeps accounting); the worker's rank and error files decide the rest, as locally.
 */
export class SlurmLauncher implements Launcher {
  readonly name = 'slurm';
  constructor(private readonly options: SlurmLauncherOptions) {}

  private resources(job: LaunchJob): SlurmResources {
    const r = this.options.resources ?? {};
    return typeof r === 'function' ? r(job) : r;
  }

  /** `sbatch` with the job's options and script (`<outputDir>/slurm/job.sh`). `port` is unused: it comes from the job id. */
  command(job: LaunchJob, _configPath?: string, _port?: number): CommandLine {
    const resources = this.resources(job);
    const dir = slurmJobDir(job);
    const args = [...sbatchArgs(planJob(resources, job), resources, job, dir), path.join(dir, 'job.sh')];
    return {
      file: this.options.binDir ? path.join(this.options.binDir, 'sbatch') : 'sbatch',
      args,
      env: this.options.env ?? {},
    };
  }

  /** The batch script for `job` (what `command` submits); the token is random per launch. */
  script(job: LaunchJob, configPath: string, token = '<token>'): string {
    const plan = planJob(this.resources(job), job);
    const serving = serverJobSpec(job, configPath, this.options);
    return batchScript({
      plan,
      job,
      accelerateBin: this.options.accelerateBin,
      configPath,
      jobDir: slurmJobDir(job),
      token,
      ...(serving && {
        nodeJob: {
          node: this.options.nodeBin ?? process.execPath,
          main: NODE_JOB_MAIN,
          spec: slurmJobFile(job, 'server-job.json'),
        },
      }),
    });
  }

  async launch(job: LaunchJob, options: SlurmLaunchOptions = {}): Promise<LaunchOutcome> {
    const started = Date.now();
    const command = this.command(job); // checks the resources before anything is written
    if (options.signal?.aborted)
      return {
        status: 'interrupted',
        message: 'interrupted before submitting',
        durationMs: 0,
        command: [command.file, ...command.args],
      };
    const configPath = slurmJobFile(job, 'experiment.json');
    const token = randomBytes(16).toString('hex');
    const serving = serverJobSpec(job, configPath, this.options);
    await writeJobFiles(job, { token, serving, script: this.script(job, configPath, token) });
    const logOffset = await fileSize(job.logFile);

    const argv = [command.file, ...command.args];
    const submitted = await slurmCommand(this.options, 'sbatch', command.args);
    if (submitted.exitCode !== 0) {
      const message = `sbatch refused the job: ${submitted.stderr.trim() || `exit code ${submitted.exitCode}`}`;
      const kind = TRANSIENT_SUBMIT.test(submitted.stderr) ? 'transient' : 'bad_config';
      return {
        status: 'failed',
        kind,
        message,
        exitCode: submitted.exitCode,
        signal: null,
        errors: [],
        durationMs: Date.now() - started,
        command: argv,
      };
    }
    const jobId = submitted.stdout.trim().split(';')[0]!;
    await recordSubmission(job, { jobId, command: argv, submittedAt: new Date().toISOString() });
    return this.follow(jobId, job, argv, logOffset, started, options);
  }

  /**
   * Wait for a job submitted earlier (by this or another process) to end and return its outcome
   * as `launch` would; abort cancels it unless detached. A job Slurm no longer knows is judged
   * by its files alone.
   */
  async attach(jobId: string, job: LaunchJob, options: SlurmLaunchOptions = {}): Promise<LaunchOutcome> {
    const record = await findSubmittedJob(job);
    const argv = record?.jobId === jobId ? record.command : ['scontrol', 'show', 'job', jobId];
    return this.follow(jobId, job, argv, await fileSize(job.logFile), Date.now(), options);
  }

  /**
   * A launcher whose first `launch` attaches to `jobId` (submitted before a restart) instead of
   * submitting; later calls (retries) submit anew. Hand it to `runWithRetry` to resume an experiment.
   */
  resuming(jobId: string): Launcher {
    let pending: string | undefined = jobId;
    return {
      name: this.name,
      command: (job, configPath, port) => this.command(job, configPath, port),
      launch: (job, options) => {
        const id = pending;
        pending = undefined;
        return id === undefined ? this.launch(job, options) : this.attach(id, job, options);
      },
    };
  }

  /** Cancel a job (`scancel`); false when Slurm refused (unknown or already finished job). */
  cancel(jobId: string): Promise<boolean> {
    return scancel(this.options, jobId);
  }

  private async follow(
    jobId: string,
    job: LaunchJob,
    command: string[],
    logOffset: number,
    started: number,
    options: SlurmLaunchOptions,
  ): Promise<LaunchOutcome> {
    const startedEvent: SlurmStartedEvent = { type: 'started', pid: process.pid, command, schedulerJobId: jobId };
    options.onEvent?.(startedEvent);
    const end = await watchJob(jobId, {
      client: this.options,
      pollMs: this.options.pollMs ?? 5000,
      logFile: job.logFile,
      logOffset,
      ...(job.silenceTimeoutMs !== undefined && { silenceMs: job.silenceTimeoutMs }),
      detach: options.detach ?? this.options.detach ?? false,
      ...(options.signal && { signal: options.signal }),
      ...(options.onEvent && { onEvent: options.onEvent }),
    });
    const durationMs = Date.now() - started;
    if (end.end === 'detached') {
      return {
        status: 'interrupted',
        message: `detached: Slurm job ${jobId} keeps running; attach to it later`,
        durationMs,
        command,
      };
    }
    options.onEvent?.({ type: 'exited', exitCode: end.info?.exitCode ?? null, signal: end.info?.signal ?? null });
    if (end.end === 'cancelled') return cancelledOutcome(end, { jobId, job, command, durationMs });
    await this.checkStorage(jobId, job, end.info);
    return jobOutcome({ jobId, info: end.info, job, command, durationMs, settleMs: this.options.settleMs ?? 30_000 });
  }

  /** The batch script exits 97 when a node cannot see the job's folder: say which ones, and stop. */
  private async checkStorage(jobId: string, job: LaunchJob, info: SlurmJobInfo | undefined): Promise<void> {
    if (info?.state !== 'FAILED' || info.exitCode !== EXIT_NOT_SHARED) return;
    const nodes = info.nodeList ? await expandHostlist(this.options, info.nodeList) : [];
    const saw = await nodesThatSaw(slurmJobDir(job));
    const blind = nodes.filter((_, i) => !saw.has(i));
    throw new SlurmError(
      `${slurmJobDir(job)} is not visible from ${blind.length > 0 ? `node(s) ${blind.join(', ')}` : 'every node'} of Slurm job ${jobId}: ` +
        'the results folder must be on storage all nodes share (NFS, Lustre, GPFS...), not a node-local disk such as /tmp',
      'SLURM_STORAGE_NOT_SHARED',
    );
  }
}
