import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** One energy backend as the worker's backend class reports it (`EnergyBackend.doctor()`). */
export interface BackendProbe {
  ok: boolean;
  detail: string;
  hint: string | null;
  /** What it found (NVML: driver, devices; RAPL: zones). */
  [fact: string]: unknown;
}

/** What `python -m joules_worker.doctor` prints: what is installed and which energy paths work. */
export interface ProbeResult {
  python: string;
  packages: Record<string, string | null>;
  cuda_available?: boolean;
  cuda_version?: string | null;
  gpus?: string[];
  torch_error?: string;
  /** Every registered energy backend, by name. */
  backends: Record<string, BackendProbe>;
}

/** Run the worker's doctor module in its environment and read its JSON line (the last one). */
export async function probeWorkerEnv(python: string): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)(python, ['-m', 'joules_worker.doctor'], {
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ProbeResult;
}
