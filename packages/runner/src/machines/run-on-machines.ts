import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import type { JobEvent, LaunchEvent, Launcher, LaunchJob, LaunchOutcome, RetryResult } from '@joules/launcher';
import { allocateExperimentId } from '@joules/tracker';
import type { EventSink } from '../events.js';
import { type Ending, finishFailed, finishInterrupted, finishSucceeded } from '../experiment/finish-experiment.js';
import { launchJob } from '../experiment/launch-job.js';
import type { ExperimentOutcome } from '../outcomes.js';
import {
  announce,
  awaitRendezvous,
  awaitWorld,
  localRanks,
  machinesWaitMs,
  rendezvousFile,
  worldProblem,
} from './rendezvous.js';

export interface MachineRun {
  experiment: Experiment;
  resultsDir: string;
  launcher: Launcher;
  emit: EventSink;
  signal?: AbortSignal;
  /** A worker's progress (shared with the single-machine run). */
  progress: (event: JobEvent, experimentId: string) => void;
  rel: (p: string) => string;
}

const span = (ranks: number[]) => (ranks.length === 1 ? `rank ${ranks[0]}` : `ranks ${ranks[0]}-${ranks.at(-1)}`);

/** One attempt on this machine (a retry would need every machine again). */
function launchOnce(run: MachineRun, job: LaunchJob): Promise<LaunchOutcome> {
  const jobId = job.id ?? '';
  return run.launcher.launch(
    { ...job, attempt: 1 },
    {
      ...(run.signal && { signal: run.signal }),
      onEvent: (e: LaunchEvent) => {
        if (e.type === 'worker') run.progress({ type: 'worker', jobId, attempt: 1, event: e.event }, jobId);
      },
    },
  );
}

/**
 * An experiment with launch.machines.num_machines > 1. Machine 0 allocates the id, announces it,
 * launches its ranks, waits for the whole world's rank files and records the experiment once; the
 * other machines wait for the announcement, launch theirs into the same work folder and record nothing.
 */
export async function runOnMachines(run: MachineRun): Promise<ExperimentOutcome> {
  const { experiment } = run;
  const m = experiment.launch.machines;
  const file = rendezvousFile(run.resultsDir, experiment);
  const who = `machine ${m.machine_rank} of ${m.num_machines} (${span(localRanks(experiment))} of ${experiment.num_processes})`;
  if (m.machine_rank > 0) return follow(run, file, who);

  await rm(file, { force: true }); // a killed earlier run's announcement must not mislead the others
  const experimentId = await allocateExperimentId(run.resultsDir);
  const job: LaunchJob = { ...launchJob(run.resultsDir, experimentId, experiment), id: experimentId };
  const startedAt = new Date().toISOString();
  const { logFile } = job;
  const end: Ending = {
    resultsDir: run.resultsDir,
    emit: run.emit,
    key: experimentId,
    experimentId,
    planned: experiment,
    logFile,
  };
  const base = { experimentId, experiment, logFile, resultsDir: run.resultsDir };
  const outcome = await leadLaunch(run, file, who, job);
  const world = outcome.status === 'interrupted' ? 'aborted' : await gatherWorld(run, job, outcome);
  if (world === 'aborted') {
    finishInterrupted(end);
    return { status: 'interrupted', ...base };
  }
  if ('kind' in world) {
    await finishFailed(end, { ...world, attempts: 1 }, { logRow: true });
    return { status: 'failed', ...base, ...world, attempts: 1 };
  }
  const result: RetryResult = {
    jobId: experimentId,
    outcome: {
      status: 'succeeded',
      rankFiles: world.files,
      exitCode: 0,
      durationMs: outcome.durationMs,
      command: outcome.command,
    },
    experiment: job.experiment,
    attempts: [],
  };
  const { recorded, metrics } = await finishSucceeded(end, result, { startedAt });
  return { status: 'succeeded', ...base, ran: job.experiment, recorded, metrics };
}

/** Machine 0: announce the experiment id to the others, then launch its own ranks once. */
async function leadLaunch(run: MachineRun, file: string, who: string, job: LaunchJob): Promise<LaunchOutcome> {
  const { experiment, emit } = run;
  const m = experiment.launch.machines;
  const experimentId = job.id!;
  try {
    await announce(file, experimentId, experiment);
    emit({ type: 'experiment-started', key: experimentId, experimentId, attempt: 1 });
    emit({
      type: 'notice',
      level: 'info',
      key: experimentId,
      message:
        `${who}: experiment ${experimentId}, waiting for the other machines at ${m.main_process_ip}:${m.main_process_port} ` +
        '(on each: the same config and --results-dir, --set launch.machines.machine_rank=<r>)',
    });
    emit({
      type: 'notice',
      level: 'info',
      key: experimentId,
      message: 'one attempt across machines: retries would need every machine again',
    });
    return await launchOnce(run, job);
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Machine 0's ranks are done: the whole world's rank files once every machine wrote them (the
 * other machines' files may still be on their way), or why the experiment failed.
 */
async function gatherWorld(
  run: MachineRun,
  job: LaunchJob,
  outcome: LaunchOutcome,
): Promise<{ files: string[] } | { kind: string; message: string } | 'aborted'> {
  const { experiment } = run;
  if (
    outcome.status === 'failed' &&
    !(outcome.exitCode === 0 && outcome.errors.length === 0 && outcome.kind !== 'timeout')
  ) {
    return { kind: outcome.kind, message: outcome.message };
  }
  const lost = localRanks(experiment).filter((r) => !existsSync(path.join(job.outputDir, `rank-${r}.json`)));
  if (lost.length > 0)
    return { kind: 'crashed', message: `worker exited 0 but wrote no result for rank(s) ${lost.join(', ')}` };
  const world = await awaitWorld(job.outputDir, experiment.num_processes, {
    timeoutMs: machinesWaitMs(),
    ...(run.signal && { signal: run.signal }),
  });
  if (world === 'aborted') return 'aborted';
  if (world === 'timeout') {
    const message = `the other machines wrote no result within ${machinesWaitMs() / 1000} s (JOULES_MACHINES_WAIT_S); see their logs`;
    return { kind: 'other', message };
  }
  if ('errors' in world) {
    const first = world.errors[0]!;
    return { kind: first.kind, message: `rank ${first.rank}: ${first.message}` };
  }
  const ranks = await Promise.all(
    world.files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as { rank: number; world_size: number }),
  );
  const problem = worldProblem(ranks, experiment.num_processes);
  if (problem) return { kind: 'other', message: problem };
  return { files: world.files };
}

/** A machine with rank > 0: wait for machine 0's experiment id, run this machine's ranks, record nothing. */
async function follow(run: MachineRun, file: string, who: string): Promise<ExperimentOutcome> {
  const { experiment, emit } = run;
  const machineRank = experiment.launch.machines.machine_rank;
  const waitMs = machinesWaitMs();
  emit({
    type: 'notice',
    level: 'info',
    message: `${who}: waiting for machine 0 to announce the experiment (${run.rel(file)})`,
  });
  const rv = await awaitRendezvous(file, { timeoutMs: waitMs, ...(run.signal && { signal: run.signal }) });
  if (rv === 'aborted') return { status: 'followed', machineRank, result: 'interrupted' };
  if (rv === 'timeout') {
    emit({
      type: 'notice',
      level: 'error',
      message:
        `${who}: machine 0 did not announce this experiment within ${waitMs / 1000} s (JOULES_MACHINES_WAIT_S): ` +
        `${run.rel(file)} never appeared. Start machine 0 with the same config and the same shared --results-dir.`,
    });
    return { status: 'followed', machineRank, result: 'failed', kind: 'timeout' };
  }
  const id = rv.experiment_id;
  const base = launchJob(run.resultsDir, id, experiment);
  const logFile = base.logFile.replace(/\.log$/, `.machine-${machineRank}.log`);
  const job: LaunchJob = { ...base, id, logFile };
  emit({
    type: 'notice',
    level: 'info',
    key: id,
    message: `${who}: experiment ${id} (machine 0 on ${rv.host}); log: ${run.rel(logFile)}`,
  });
  const outcome = await launchOnce(run, job);
  if (outcome.status === 'interrupted') {
    emit({ type: 'notice', level: 'error', key: id, message: `${who}: interrupted` });
    return { status: 'followed', machineRank, experimentId: id, result: 'interrupted' };
  }
  // The launcher expects the whole world's files; here only this machine's accelerate matters.
  const ok =
    outcome.status === 'succeeded' ||
    (outcome.exitCode === 0 && outcome.errors.length === 0 && outcome.kind !== 'timeout');
  if (!ok) {
    emit({
      type: 'notice',
      level: 'error',
      key: id,
      message: `${who}: failed (${outcome.kind}): ${outcome.message}; machine 0 records the experiment's outcome (log: ${run.rel(logFile)})`,
    });
    return { status: 'followed', machineRank, experimentId: id, result: 'failed', kind: outcome.kind };
  }
  emit({ type: 'notice', level: 'info', key: id, message: `${who}: done; machine 0 records experiment ${id}` });
  return { status: 'followed', machineRank, experimentId: id, result: 'succeeded' };
}
