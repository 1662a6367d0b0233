import path from 'node:path';
import type { Experiment } from '@joules/config';
import {
  GpuControlLauncher,
  type Launcher,
  loadLauncher,
  ServerLauncher,
  SlurmLauncher,
  type SlurmResources,
} from '@joules/launcher';
import type { WorkerEnv } from '../worker-env.js';
import { effectiveLauncher } from './launch-job.js';

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
            // Inside it, the GPU guard holds gpu.* around the worker (for engine "server": the measured run).
            loadLauncher(spec, { cwd, accelerateBin: worker.accelerate, pythonBin: worker.python }).then(
              (l) =>
                new ServerLauncher(new GpuControlLauncher(l, { pythonBin: worker.python }), {
                  pathPrefix: path.dirname(worker.python),
                }),
            );
      cache.set(spec, launcher);
    }
    return launcher;
  };
}

/** The launcher of each experiment, `launcherCache`'s lookup. */
export type LauncherFor = ReturnType<typeof launcherCache>;
