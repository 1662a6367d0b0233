import { z } from 'zod';
import { startsServer } from './engines/engine-table.js';
import type { Experiment } from './experiment-schema.js';
import { err, type Rule, rule } from './rule.js';

// `gpu`: the GPU's power limit and locked SM clock as experiment factors (issue 25). The launcher's
// GPU guard (python -m joules_worker.gpu_control) applies them through NVML to the experiment's
// GPUs before the worker starts, reads back what the driver enforces (the row's gpu_power_limit_w,
// gpu_sm_clock_mhz) and restores the previous values afterwards, even when Joules is killed.

/** The most a setting may ask: above any GPU's range, so a typo (mW for W) is caught here. */
export const GPU_LIMITS = { power_limit_w: 2000, sm_clock_mhz: 5000 } as const;

export const GpuSchema = z
  .strictObject({
    power_limit_w: z
      .int()
      .positive()
      .max(GPU_LIMITS.power_limit_w)
      .nullable()
      .default(null)
      .describe(
        "power limit of each of the experiment's GPUs (W; NVML's power management limit, within the GPU's constraints); null = leave it as it is. Needs root or CAP_SYS_ADMIN",
      ),
    sm_clock_mhz: z
      .int()
      .positive()
      .max(GPU_LIMITS.sm_clock_mhz)
      .nullable()
      .default(null)
      .describe(
        "lock the SM clock of each of the experiment's GPUs to this frequency (MHz; locked min = max); null = leave it as it is. Needs root or CAP_SYS_ADMIN",
      ),
  })
  .describe('GPU power limit and locked SM clock, set through NVML around each experiment and restored after it');

export type GpuSettings = z.output<typeof GpuSchema>;

/** The `gpu` keys an experiment sets (non-null), in schema order. */
export function gpuKeysSet(e: Pick<Experiment, 'gpu'>): ('power_limit_w' | 'sm_clock_mhz')[] {
  return (['power_limit_w', 'sm_clock_mhz'] as const).filter((k) => e.gpu[k] !== null);
}

/**
 * The GPUs (NVML indices on this host) that `gpu` applies to: the experiment's `gpu_ids`, or, for an
 * attached server (`server.url`), `server.devices` (null = unknown, none).
 */
export function gpuControlTargets(e: Experiment): number[] {
  if (startsServer(e) && e.server.url !== null) return [...(e.server.devices ?? [])];
  return [...e.gpu_ids];
}

/** Whether the experiment sets a `gpu` key (the launcher starts the GPU guard only then). */
export const controlsGpus = (e: Experiment): boolean => gpuKeysSet(e).length > 0;

export const GPU_RULES: readonly Rule[] = [
  rule('gpu-control-targets', ['gpu', 'gpu_ids', 'launch', 'engine', 'server'], (c, out) => {
    const keys = gpuKeysSet(c);
    if (keys.length === 0) return;
    const at = (message: string) => {
      for (const k of keys) err(out, `gpu.${k}`, message);
    };
    if (c.launch.launcher === 'slurm') {
      at('not with launch.launcher "slurm": the GPU guard runs on this host, the job on a Slurm node');
      return;
    }
    if (gpuControlTargets(c).length > 0) return;
    if (startsServer(c) && c.server.url !== null)
      at("needs the attached server's GPUs on this host: set server.devices (it is empty or unset)");
    else at('needs GPUs to apply to: gpu_ids is empty (the experiment runs on CPU)');
  }),
];
