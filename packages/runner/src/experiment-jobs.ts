import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { configHash, type Experiment, effectiveConfigHash } from '@joules/config';
import {
  type JobEvent,
  type Launcher,
  type LaunchJob,
  loadLauncher,
  type RetryPolicy,
  type RetryResult,
  ServerLauncher,
  SlurmLauncher,
  type SlurmResources,
} from '@joules/launcher';
import {
  aggregateRanks,
  deriveMetrics,
  type ExperimentMetrics,
  type RawMeasurement,
  RawMeasurementSchema,
} from '@joules/metrics';
import { type RecordedExperiment, recordExperiment, recordFailure, resultsLayout } from '@joules/tracker';
import { servingColumnsOf } from './serving-metrics-of.js';
import type { WorkerEnv } from './worker-env.js';

/** An experiment's `launch.slurm` as the Slurm launcher's resources (null settings left to Slurm). */
export function slurmResources(experiment: Experiment): SlurmResources {
  const s = experiment.launch.slurm;
  return {
    nodes: s.nodes,
    gpusPerNode: s.gpus_per_node,
    ...(s.cpus_per_task !== null && { cpusPerTask: s.cpus_per_task }),
    ...(s.mem !== null && { mem: s.mem }),
    ...(s.partition !== null && { partition: s.partition }),
    ...(s.account !== null && { account: s.account }),
    ...(s.qos !== null && { qos: s.qos }),
    ...(s.time_limit !== null && { timeLimit: s.time_limit }),
    extraArgs: s.extra_args,
  };
}

export interface LauncherCacheOptions {
  /** Slurm: on abort leave the jobs queued and running (`joules suite --detach`). */
  detach?: boolean;
  /** A launcher object that runs every experiment instead of the one `launch.launcher` names. */
  override?: Launcher;
}

/** How often the Slurm launcher polls squeue/scontrol: `JOULES_SLURM_POLL_MS`, default 5000. */
function slurmPollMs(): number | undefined {
  const ms = Number(process.env.JOULES_SLURM_POLL_MS);
  return Number.isInteger(ms) && ms >= 100 ? ms : undefined;
}

/**
 * The launcher `launch.launcher` means for this experiment: `auto` is `python` for one process on
 * one machine and `accelerate` for more; every other value is itself.
 */
export function effectiveLauncher(experiment: Experiment): string {
  const spec = experiment.launch.launcher;
  if (spec !== 'auto') return spec;
  return experiment.num_processes > 1 || experiment.launch.machines.num_machines > 1 ? 'accelerate' : 'python';
}

/** The experiment as the worker gets it: `launch.launcher` resolved (never `auto`). */
export function resolvedExperiment(experiment: Experiment): Experiment {
  const launcher = effectiveLauncher(experiment);
  return launcher === experiment.launch.launcher
    ? experiment
    : { ...experiment, launch: { ...experiment.launch, launcher } };
}

/** The launcher an experiment asks for (`launch.launcher`, `auto` resolved), built once per distinct spec. */
export function launcherCache(worker: WorkerEnv, cwd: string, options: LauncherCacheOptions = {}) {
  const cache = new Map<string, Promise<Launcher>>();
  return (experiment: Experiment): Promise<Launcher> => {
    if (options.override) return Promise.resolve(options.override);
    const spec = effectiveLauncher(experiment);
    let launcher = cache.get(spec);
    if (!launcher) {
      const pollMs = slurmPollMs();
      launcher =
        spec === 'slurm'
          ? Promise.resolve(
              new SlurmLauncher({
                accelerateBin: worker.accelerate,
                pythonBin: worker.python,
                resources: (job) => slurmResources(job.experiment),
                ...(options.detach !== undefined && { detach: options.detach }),
                ...(pollMs !== undefined && { pollMs }),
              }),
            )
          : // ServerLauncher passes other engines through; engine "server" gets its inference server.
            loadLauncher(spec, { cwd, accelerateBin: worker.accelerate, pythonBin: worker.python }).then(
              (l) => new ServerLauncher(l, { pathPrefix: path.dirname(worker.python) }),
            );
      cache.set(spec, launcher);
    }
    return launcher;
  };
}

/** The experiment's retry group as the launcher's policy. */
export const retryPolicy = (e: Experiment): RetryPolicy => ({
  maxRetries: e.retry.max_retries,
  backoffBaseS: e.retry.backoff_base_s,
  halveBatchOnOom: e.retry.halve_batch_on_oom,
});

/**
 * The launch job of an experiment whose id is known: work folder, log file and timeouts. On several
 * machines (launch.machines) the port is the configured one, which every machine names.
 */
export function launchJob(resultsDir: string, experimentId: string, experiment: Experiment): LaunchJob {
  const layout = resultsLayout(resultsDir);
  const machines = experiment.launch.machines;
  return {
    experiment: resolvedExperiment(experiment),
    outputDir: `${layout.stateDir}/work/${experimentId}`,
    logFile: layout.logFile(experimentId),
    // Ranks on this host exit if this process dies (SIGKILL included) instead of running on as orphans.
    // Not on Slurm: its jobs outlive this process on purpose (a restarted suite reattaches to them).
    env:
      effectiveLauncher(experiment) === 'slurm'
        ? {}
        : { JOULES_PARENT_PID: String(process.pid), JOULES_PARENT_HOST: os.hostname() },
    ...(experiment.launch.timeout_s !== null && { timeoutMs: experiment.launch.timeout_s * 1000 }),
    ...(experiment.launch.silence_timeout_s !== null && {
      silenceTimeoutMs: experiment.launch.silence_timeout_s * 1000,
    }),
    ...(machines.num_machines > 1 && machines.main_process_port !== null && { port: machines.main_process_port }),
  };
}

async function readRanks(files: readonly string[]): Promise<RawMeasurement[]> {
  const ranks: RawMeasurement[] = [];
  for (const file of files) {
    const parsed = RawMeasurementSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`${file}: not a valid raw measurement (${first?.path.join('.')}: ${first?.message})`);
    }
    ranks.push(parsed.data);
  }
  return ranks;
}

/**
 * Record a successful run: the ranks' raw measurements checked against the contract, aggregated
 * (each device once), derived, written. `planned` is the experiment as configured (its hash is
 * the one resume compares); the files describe what really ran (`result.experiment`, e.g. with a
 * batch size halved after an OOM).
 */
export async function recordSuccess(
  resultsDir: string,
  experimentId: string,
  planned: Experiment,
  result: RetryResult,
  startedAt: string,
  /** `energyHostShared`: a host-level reader ran beside other jobs (see energyHostShared in @joules/config). */
  extra: { energyHostShared?: boolean } = {},
): Promise<{ recorded: RecordedExperiment; metrics: ExperimentMetrics }> {
  if (result.outcome.status !== 'succeeded') throw new Error('recordSuccess: the outcome is not a success');
  const ran = result.experiment;
  const ranks = await readRanks(result.outcome.rankFiles);
  const totals = aggregateRanks(ranks);
  const derived = deriveMetrics(totals, {
    pue: ran.energy.pue,
    carbon_intensity_g_per_kwh: ran.energy.carbon_intensity_g_per_kwh,
  });
  // Engine "server": its serving columns join the row (they stay empty for transformers rows).
  const serving = await servingColumnsOf(path.dirname(result.outcome.rankFiles[0]!), ran);
  const metrics: ExperimentMetrics = serving ? Object.assign({}, derived, serving) : derived;
  const recorded = await recordExperiment(resultsDir, {
    experimentId,
    experiment: ran,
    configHash: configHash(planned),
    effectiveConfigHash: effectiveConfigHash(planned, ran),
    ...(extra.energyHostShared !== undefined && { energyHostShared: extra.energyHostShared }),
    // The worker's side files (timeseries, token ids) lie beside its rank files: they are copied too.
    workDir: path.dirname(result.outcome.rankFiles[0]!),
    launcher: effectiveLauncher(ran),
    startedAt,
    finishedAt: new Date().toISOString(),
    ranks,
    totals,
    metrics,
  });
  return { recorded, metrics };
}

/** Every failed attempt goes to failed_experiments.csv; `final` marks the one that ended it. */
export function failureRecorder(resultsDir: string, experimentIdOf: (jobId: string) => string | undefined) {
  return async (event: JobEvent): Promise<void> => {
    if (event.type !== 'attempt-failed') return;
    await recordFailure(resultsDir, {
      experimentId: experimentIdOf(event.jobId) ?? '',
      configName: event.experiment.config_name,
      modelName: event.experiment.model_name,
      attempt: event.attempt,
      kind: event.kind,
      message: event.message,
      config: event.experiment,
      final: !event.willRetry,
    });
  };
}
