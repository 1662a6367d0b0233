import { createInterface } from 'node:readline';
import { execa } from 'execa';

/** What the GPU guard reads back from NVML after applying the settings, per GPU. */
export interface GpuReading {
  index: number;
  uuid: string;
  /** nvmlDeviceGetEnforcedPowerLimit, in W. */
  power_limit_w: number;
  /** nvmlDeviceGetClockInfo(NVML_CLOCK_SM), in MHz. */
  sm_clock_mhz: number;
}

export interface GpuGuardOptions {
  /** The worker's Python (it has joules_worker, and pynvml on a GPU machine). */
  pythonBin: string;
  /** NVML indices of the GPUs to set. */
  gpus: readonly number[];
  powerLimitW: number | null;
  smClockMhz: number | null;
  /** Where the guard keeps its restore files (one per GPU, until it restored). */
  restoreDir: string;
  /** How long the guard may take to restore once told to stop (default 30 s; then SIGKILL, the restore files stay). */
  stopTimeoutMs?: number;
}

/** The guard's answer once it applied the settings, or why it did not. */
export type GpuGuardStart =
  | { status: 'applied'; gpus: GpuReading[]; leftoverRestored: number[]; stop: () => Promise<GpuGuardStop> }
  | { status: 'refused'; key: string | null; message: string; exitCode: number | null };

/** How the guard ended: `restored`, or why not (its restore files then stay for the next guard). */
export type GpuGuardStop = { restored: true } | { restored: false; message: string };

interface GuardLine {
  event: 'applied' | 'refused' | 'leftover_restored' | 'restored' | 'restore_failed' | 'error';
  gpus?: unknown;
  key?: string;
  message?: string;
}

/**
 * Start `python -m joules_worker.gpu_control` and wait until it applied the settings (or refused).
 * It holds them until `stop()` closes its stdin; should this process die, the closed pipe (or its
 * parent's death) makes it restore on its own.
 */
export async function startGpuGuard(options: GpuGuardOptions): Promise<GpuGuardStart> {
  const args = [
    '-m',
    'joules_worker.gpu_control',
    '--gpus',
    options.gpus.join(','),
    '--restore-dir',
    options.restoreDir,
  ];
  if (options.powerLimitW !== null) args.push('--power-limit-w', String(options.powerLimitW));
  if (options.smClockMhz !== null) args.push('--sm-clock-mhz', String(options.smClockMhz));
  const guard = execa(options.pythonBin, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false });
  const lines = createInterface({ input: guard.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<GuardLine | undefined> => {
    for (;;) {
      const r = await lines.next();
      if (r.done) return undefined;
      try {
        return JSON.parse(r.value) as GuardLine;
      } catch {
        // not one of its events
      }
    }
  };
  const leftoverRestored: number[] = [];
  let line = await next();
  while (line?.event === 'leftover_restored') {
    leftoverRestored.push(...(line.gpus as number[]));
    line = await next();
  }
  if (line?.event === 'applied') {
    const stop = async (): Promise<GpuGuardStop> => {
      guard.stdin?.end();
      const timer = setTimeout(() => guard.kill('SIGKILL'), options.stopTimeoutMs ?? 30_000);
      const seen: GuardLine[] = [];
      for (let l = await next(); l; l = await next()) seen.push(l);
      const result = await guard;
      clearTimeout(timer);
      if (result.exitCode === 0 && seen.some((l) => l.event === 'restored')) return { restored: true };
      const why = seen.find((l) => l.event === 'restore_failed')?.message ?? `exit ${result.exitCode ?? result.signal}`;
      return {
        restored: false,
        message: `the GPU settings were not restored (${why}); the next run on this results folder restores them from ${options.restoreDir}`,
      };
    };
    return { status: 'applied', gpus: line.gpus as GpuReading[], leftoverRestored, stop };
  }
  const result = await guard;
  const stderr = String(result.stderr ?? '').trim();
  return {
    status: 'refused',
    key: line?.key ?? null,
    message:
      line?.message ??
      `the GPU guard ended before applying the gpu settings (exit ${result.exitCode ?? result.signal}): ${stderr.slice(-2000)}`,
    exitCode: result.exitCode ?? null,
  };
}
