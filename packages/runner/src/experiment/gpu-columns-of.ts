import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { controlsGpus, type Experiment } from '@joules/config';
import { GPU_CONTROL_FILE, type GpuControlRecord } from '@joules/launcher';

/** The row's GPU settings as NVML enforced them (the GPU guard's read-back); null where not set. */
export interface GpuColumns {
  gpu_power_limit_w: number | null;
  gpu_sm_clock_mhz: number | null;
}

/** The lowest of the GPUs' values (they differ only where one GPU could not follow the setting). */
const lowest = (values: number[]): number | null => (values.length ? Math.min(...values) : null);

/**
 * `gpu_power_limit_w` and `gpu_sm_clock_mhz` of an experiment that sets `gpu.*`, from the guard's
 * read-back in `workDir` (GpuControlLauncher writes it); undefined for one that sets neither.
 * A key not set stays null: an unlocked clock read at one instant says nothing of the run.
 */
export async function gpuColumnsOf(workDir: string, experiment: Experiment): Promise<GpuColumns | undefined> {
  if (!controlsGpus(experiment)) return undefined;
  const file = path.join(workDir, GPU_CONTROL_FILE);
  const record = JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as GpuControlRecord | null;
  if (!record) throw new Error(`${file} is missing: the GPU guard's read-back of gpu.* did not reach the work folder`);
  return {
    gpu_power_limit_w: experiment.gpu.power_limit_w === null ? null : lowest(record.gpus.map((g) => g.power_limit_w)),
    gpu_sm_clock_mhz: experiment.gpu.sm_clock_mhz === null ? null : lowest(record.gpus.map((g) => g.sm_clock_mhz)),
  };
}
