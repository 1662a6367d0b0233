import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import type { JobEvent, LaunchEvent, LaunchJob, LaunchOutcome, Launcher, RetryResult } from '@joules/launcher';
import type { ExperimentMetrics } from '@joules/metrics';
import { allocateExperimentId, recordFailure, type RecordedExperiment } from '@joules/tracker';
import { EXIT } from '../errors.js';
import { launchJob, recordSuccess } from '../experiment-jobs.js';
import { announce, awaitRendezvous, awaitWorld, localRanks, machinesWaitMs, rendezvousFile, worldProblem } from '../machines.js';
import { dim, red, type Output } from '../output.js';

export interface MachineRun {
  experiment: Experiment;
  resultsDir: string;
  launcher: Launcher;
  output: Output;
  json: boolean;
  signal?: AbortSignal;
  /** Prints a worker's progress (shared with the single-machine run). */
  progress: (event: JobEvent) => void;
  rel: (p: string) => string;
}

/** What machine 0 recorded, for the caller's summary. */
export interface MachineRecorded {
  experimentId: string;
  ran: Experiment;
  recorded: RecordedExperiment;
  metrics: ExperimentMetrics;
}

const span = (ranks: number[]) => (ranks.length === 1 ? `rank ${ranks[0]}` : `ranks ${ranks[0]}-${ranks.at(-1)}`);

/** One attempt on this machine (a retry would need every machine again). */
function launchOnce(run: MachineRun, job: LaunchJob): Promise<LaunchOutcome> {
  const jobId = job.id ?? '';
  return run.launcher.launch({ ...job, attempt: 1 }, {
    ...(run.signal && { signal: run.signal }),
    onEvent: (e: LaunchEvent) => {
      if (e.type === 'worker') run.progress({ type: 'worker', jobId, attempt: 1, event: e.event });
    },
  });
}

/**
 * `joules run` with launch.machines.num_machines > 1. Machine 0 allocates the id, announces it,
 * launches its ranks, waits for the whole world's rank files and records the experiment once; the
 * other machines wait for the announcement, launch theirs into the same work folder and record nothing.
 * Returns an exit code, or what machine 0 recorded.
 */
export async function runOnMachines(run: MachineRun): Promise<number | MachineRecorded> {
  const { experiment, output } = run;
  const m = experiment.launch.machines;
  const file = rendezvousFile(run.resultsDir, experiment);
  const who = `machine ${m.machine_rank} of ${m.num_machines} (${span(localRanks(experiment))} of ${experiment.num_processes})`;
  if (m.machine_rank > 0) return follow(run, file, who);

  await rm(file, { force: true }); // a killed earlier run's announcement must not mislead the others
  const experimentId = await allocateExperimentId(run.resultsDir);
  const job: LaunchJob = { ...launchJob(run.resultsDir, experimentId, experiment), id: experimentId };
  const startedAt = new Date().toISOString();
  const fail = async (kind: string, message: string) => {
    await recordFailure(run.resultsDir, {
      experimentId, configName: experiment.config_name, modelName: experiment.model_name, attempt: 1, kind, message, config: experiment, final: true,
    });
    output.err(red(output, `experiment ${experimentId} failed (${kind}): ${message}`));
    output.err(`log: ${run.rel(job.logFile)}; failures recorded in ${run.rel(path.join(run.resultsDir, 'failed_experiments.csv'))}`);
    if (run.json) output.out(JSON.stringify({ experiment_id: experimentId, status: 'failed', kind, message, attempts: 1, log: job.logFile }));
    return EXIT.failed;
  };
  let outcome: LaunchOutcome;
  try {
    await announce(file, experimentId, experiment);
    output.err(`${who}: experiment ${experimentId}, waiting for the other machines at ${m.main_process_ip}:${m.main_process_port} ` +
      `(on each: the same config and --results-dir, --set launch.machines.machine_rank=<r>)`);
    output.err(dim(output, 'one attempt across machines: retries would need every machine again'));
    outcome = await launchOnce(run, job);
  } finally {
    await rm(file, { force: true });
  }
  if (outcome.status === 'interrupted') {
    output.err(red(output, `experiment ${experimentId} interrupted; nothing was recorded (log: ${run.rel(job.logFile)})`));
    if (run.json) output.out(JSON.stringify({ experiment_id: experimentId, status: 'interrupted' }));
    return EXIT.interrupted;
  }
  // This machine's ranks are done; the other machines' files may still be on their way.
  if (outcome.status === 'failed' && !(outcome.exitCode === 0 && outcome.errors.length === 0 && outcome.kind !== 'timeout')) {
    return fail(outcome.kind, outcome.message);
  }
  const lost = localRanks(experiment).filter((r) => !existsSync(path.join(job.outputDir, `rank-${r}.json`)));
  if (lost.length > 0) return fail('crashed', `worker exited 0 but wrote no result for rank(s) ${lost.join(', ')}`);
  const world = await awaitWorld(job.outputDir, experiment.num_processes, { timeoutMs: machinesWaitMs(), ...(run.signal && { signal: run.signal }) });
  if (world === 'aborted') {
    output.err(red(output, `experiment ${experimentId} interrupted; nothing was recorded`));
    return EXIT.interrupted;
  }
  if (world === 'timeout') return fail('other', `the other machines wrote no result within ${machinesWaitMs() / 1000} s (JOULES_MACHINES_WAIT_S); see their logs`);
  if ('errors' in world) {
    const first = world.errors[0]!;
    return fail(first.kind, `rank ${first.rank}: ${first.message}`);
  }
  const ranks = await Promise.all(world.files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as { rank: number; world_size: number }));
  const problem = worldProblem(ranks, experiment.num_processes);
  if (problem) return fail('other', problem);
  const result: RetryResult = {
    jobId: experimentId,
    outcome: { status: 'succeeded', rankFiles: world.files, exitCode: 0, durationMs: outcome.durationMs, command: outcome.command },
    experiment,
    attempts: [],
  };
  const { recorded, metrics } = await recordSuccess(run.resultsDir, experimentId, experiment, result, startedAt);
  await rm(job.outputDir, { recursive: true, force: true });
  return { experimentId, ran: experiment, recorded, metrics };
}

/** A machine with rank > 0: wait for machine 0's experiment id, run this machine's ranks, record nothing. */
async function follow(run: MachineRun, file: string, who: string): Promise<number> {
  const { experiment, output } = run;
  const waitMs = machinesWaitMs();
  output.err(`${who}: waiting for machine 0 to announce the experiment (${run.rel(file)})`);
  const rv = await awaitRendezvous(file, { timeoutMs: waitMs, ...(run.signal && { signal: run.signal }) });
  if (rv === 'aborted') return EXIT.interrupted;
  if (rv === 'timeout') {
    output.err(red(output, `${who}: machine 0 did not announce this experiment within ${waitMs / 1000} s (JOULES_MACHINES_WAIT_S): ` +
      `${run.rel(file)} never appeared. Start machine 0 with the same config and the same shared --results-dir.`));
    return EXIT.failed;
  }
  const id = rv.experiment_id;
  const base = launchJob(run.resultsDir, id, experiment);
  const logFile = base.logFile.replace(/\.log$/, `.machine-${experiment.launch.machines.machine_rank}.log`);
  const job: LaunchJob = { ...base, id, logFile };
  output.err(`${who}: experiment ${id} (machine 0 on ${rv.host}); log: ${run.rel(logFile)}`);
  const outcome = await launchOnce(run, job);
  if (outcome.status === 'interrupted') {
    output.err(red(output, `${who}: interrupted`));
    return EXIT.interrupted;
  }
  // The launcher expects the whole world's files; here only this machine's accelerate matters.
  const ok = outcome.status === 'succeeded' || (outcome.exitCode === 0 && outcome.errors.length === 0 && outcome.kind !== 'timeout');
  if (!ok) {
    output.err(red(output, `${who}: failed (${outcome.kind}): ${outcome.message}; machine 0 records the experiment's outcome (log: ${run.rel(logFile)})`));
    if (run.json) output.out(JSON.stringify({ experiment_id: id, status: 'failed', machine_rank: experiment.launch.machines.machine_rank, kind: outcome.kind }));
    return EXIT.failed;
  }
  output.err(`${who}: done; machine 0 records experiment ${id}`);
  if (run.json) output.out(JSON.stringify({ experiment_id: id, status: 'succeeded', machine_rank: experiment.launch.machines.machine_rank, recorded_by: 0 }));
  return EXIT.ok;
}
