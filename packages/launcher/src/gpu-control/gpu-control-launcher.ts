import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { controlsGpus, gpuControlTargets } from '@joules/config';
import type { CommandLine, Launcher, LaunchJob, LaunchOptions, LaunchOutcome } from '../launcher.js';
import { type GpuReading, startGpuGuard } from './gpu-guard.js';

/** The guard's read-back, kept in the work folder for the recorder (`gpu_power_limit_w`, `gpu_sm_clock_mhz`). */
export const GPU_CONTROL_FILE = 'gpu-control.json';

/** What {@link GPU_CONTROL_FILE} holds. */
export interface GpuControlRecord {
  requested: { power_limit_w: number | null; sm_clock_mhz: number | null };
  gpus: GpuReading[];
}

export interface GpuControlLauncherOptions {
  /** The worker's Python, which runs the guard. */
  pythonBin: string;
  /** How long a guard may take to restore (default 30 s). */
  stopTimeoutMs?: number;
}

/** The guard's restore files: `<results>/.joules/gpu-restore/` (the job's state folder), else beside the work folder. */
export const gpuRestoreDir = (job: LaunchJob) =>
  path.join(job.stateDir ?? path.dirname(path.dirname(job.outputDir)), 'gpu-restore');

/**
 * Runs experiments that set `gpu.power_limit_w` or `gpu.sm_clock_mhz` inside the GPU guard
 * (python -m joules_worker.gpu_control): it applies them to the experiment's GPUs before `inner`
 * starts the worker, and restores them when the attempt ended, however it ended (a killed Joules
 * included: the guard notices). A refusal fails the attempt before the worker starts (kind
 * `gpu_control`, not retried). Other experiments go to `inner` untouched.
 */
export class GpuControlLauncher implements Launcher {
  readonly name: string;
  command?: (job: LaunchJob, configPath: string, port: number) => CommandLine;

  constructor(
    private readonly inner: Launcher,
    private readonly options: GpuControlLauncherOptions,
  ) {
    this.name = inner.name;
    if (inner.command) this.command = (job, configPath, port) => inner.command!(job, configPath, port);
  }

  async launch(job: LaunchJob, options: LaunchOptions = {}): Promise<LaunchOutcome> {
    const e = job.experiment;
    if (!controlsGpus(e)) return this.inner.launch(job, options);
    const t0 = Date.now();
    const failed = (message: string): LaunchOutcome => ({
      status: 'failed',
      kind: 'gpu_control',
      message,
      exitCode: null,
      signal: null,
      errors: [],
      durationMs: Date.now() - t0,
      command: [],
    });
    const restoreDir = gpuRestoreDir(job);
    await mkdir(restoreDir, { recursive: true });
    const guard = await startGpuGuard({
      pythonBin: this.options.pythonBin,
      gpus: gpuControlTargets(e),
      powerLimitW: e.gpu.power_limit_w,
      smClockMhz: e.gpu.sm_clock_mhz,
      restoreDir,
      ...(this.options.stopTimeoutMs !== undefined && { stopTimeoutMs: this.options.stopTimeoutMs }),
    });
    if (guard.status === 'refused') return failed(guard.message);
    let outcome: LaunchOutcome | undefined;
    let error: unknown;
    try {
      const record: GpuControlRecord = { requested: { ...e.gpu }, gpus: guard.gpus };
      await mkdir(job.outputDir, { recursive: true });
      await writeFile(path.join(job.outputDir, GPU_CONTROL_FILE), `${JSON.stringify(record, null, 2)}\n`);
      outcome = await this.inner.launch(job, options);
    } catch (err) {
      error = err;
    }
    // A GPU left changed outweighs the attempt's result: it fails, saying where the restore files are.
    const stopped = await guard.stop();
    if (!stopped.restored) return failed(stopped.message);
    if (outcome === undefined) throw error;
    return outcome;
  }
}
