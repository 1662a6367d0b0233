import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The worker's faked pynvml (python/tests/fake_pynvml): put first on PYTHONPATH, it stands in for NVML. */
export const FAKE_PYNVML_DIR = fileURLToPath(new URL('../../../python/tests/fake_pynvml', import.meta.url));

/** One faked GPU (see python/tests/fake_pynvml/pynvml/__init__.py for every key). */
export interface FakeGpu {
  uuid: string;
  name?: string;
  power_w?: number;
  /** Its power limit before anything sets it (W; default 700). */
  power_limit_w?: number;
  /** [min, max] W the limit may be set to (default [100, 700]). */
  power_limit_constraints_w?: [number, number];
  /** A locked SM clock reads back rounded down to this step (MHz; default 1). */
  sm_clock_step_mhz?: number;
  /** Refuse these sets with NVML_ERROR_NO_PERMISSION (true: both). */
  deny?: true | ('power_limit' | 'clocks')[];
  [key: string]: unknown;
}

/** What was set on one faked GPU (by its UUID), as the faked NVML keeps it across processes. */
export interface FakeGpuSettings {
  power_limit_mw?: number;
  locked_sm_mhz?: [number, number] | null;
}

const KEYS = [
  'PYTHONPATH',
  'FAKE_PYNVML_CONFIG',
  'FAKE_PYNVML_STATE',
  'JOULES_WORKER_CPU_WITH_GPU_IDS',
  'JOULES_CACHE_DIR',
  'HF_HUB_OFFLINE',
];

/**
 * Make the real worker, started from this process, see `gpus` through the faked NVML while it runs
 * on CPU: the config goes to `<dir>/fake-nvml.json` (`t0: 0`, one power curve for every process),
 * what processes set (power limits, locked clocks) to `<dir>/fake-nvml-state.json` (see
 * readFakeNvmlState), and this process's environment gets PYTHONPATH, FAKE_PYNVML_CONFIG,
 * FAKE_PYNVML_STATE, JOULES_WORKER_CPU_WITH_GPU_IDS, a cache under `dir` and HF_HUB_OFFLINE.
 * Returns the function that puts the environment back.
 */
export async function useFakeNvml(dir: string, gpus: readonly FakeGpu[]): Promise<() => void> {
  const config = path.join(dir, 'fake-nvml.json');
  await writeFile(config, JSON.stringify({ devices: gpus, t0: 0 }));
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    PYTHONPATH: [FAKE_PYNVML_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
    FAKE_PYNVML_CONFIG: config,
    FAKE_PYNVML_STATE: path.join(dir, 'fake-nvml-state.json'),
    JOULES_WORKER_CPU_WITH_GPU_IDS: '1',
    JOULES_CACHE_DIR: path.join(dir, 'cache'),
    HF_HUB_OFFLINE: '1',
  });
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * What processes set on the faked GPUs of `useFakeNvml(dir, …)`, by UUID ({} before any set). A GPU
 * is as configured when its `power_limit_mw` is absent or its configured limit, and `locked_sm_mhz`
 * absent or null.
 */
export async function readFakeNvmlState(dir: string): Promise<Record<string, FakeGpuSettings>> {
  const text = await readFile(path.join(dir, 'fake-nvml-state.json'), 'utf8').catch(() => '{}');
  return JSON.parse(text) as Record<string, FakeGpuSettings>;
}
