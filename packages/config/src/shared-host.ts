import { autoOnCpu, backendTraits, isEnergyBackend, plannedBackend } from './engines/energy-backend-table.js';
import type { Experiment } from './experiment-schema.js';

/**
 * Whether an experiment's energy backend reads the whole host (CPU packages, RAM) rather than
 * its own devices: a host-scoped backend of the table (codecarbon, rapl, zeus: it reads the host's
 * CPU packages beside the GPUs), and auto without gpu_ids (auto then picks rapl or codecarbon).
 * nvml reads only the job's GPUs.
 */
export function hostScopeEnergy(e: Experiment): boolean {
  return backendTraits(plannedBackend(e)).hostScoped;
}

/** An experiment that would run on this host, under its suite key. */
export interface SharedHostJob {
  key: string;
  experiment: Experiment;
}

/**
 * Why a set of experiments must not run `maxParallel` at a time on one host (empty: they may).
 * With more than one at a time, a host-level reader counts every other job's CPU and RAM as its
 * own, once per job. Allowed only with `energy.allow_shared_host: true` on each such experiment,
 * and then without an idle baseline (it would be measured under the other jobs' load).
 */
export function sharedHostProblems(jobs: readonly SharedHostJob[], maxParallel: number): string[] {
  if (maxParallel <= 1 || jobs.length <= 1) return [];
  const problems: string[] = [];
  for (const { key, experiment: e } of jobs) {
    if (!hostScopeEnergy(e)) continue;
    const b = e.energy.backend;
    const backend = isEnergyBackend(b) ? b : `${b} (on CPU it picks ${autoOnCpu()})`;
    if (!e.energy.allow_shared_host) {
      problems.push(
        `${key}: --max-parallel ${maxParallel} with energy.backend ${backend}: a host-level backend reports the whole host's CPU and RAM energy, ` +
          'so every job running at once would count the others. Use --max-parallel 1, or set energy.allow_shared_host: true ' +
          '(rows are then marked energy_host_shared=true)',
      );
    } else if (e.energy.idle_baseline_s > 0) {
      problems.push(
        `${key}: energy.idle_baseline_s ${e.energy.idle_baseline_s} with energy.allow_shared_host and --max-parallel ${maxParallel}: ` +
          "the idle baseline would be measured under the other jobs' load. Set energy.idle_baseline_s: 0, or use --max-parallel 1",
      );
    }
  }
  return problems;
}

/** Whether a recorded row's host-level energy may include other jobs' (see sharedHostProblems). */
export function energyHostShared(e: Experiment, maxParallel: number, jobsOnHost: number): boolean {
  return maxParallel > 1 && jobsOnHost > 1 && hostScopeEnergy(e) && e.energy.allow_shared_host;
}
