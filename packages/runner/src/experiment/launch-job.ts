import os from 'node:os';
import type { Experiment } from '@joules/config';
import type { LaunchJob, RetryPolicy } from '@joules/launcher';
import { resultsLayout } from '@joules/tracker';

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
    stateDir: layout.stateDir,
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
