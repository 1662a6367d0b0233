import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The worker's faked pynvml (python/tests/fake_pynvml): put first on PYTHONPATH, it stands in for NVML. */
export const FAKE_PYNVML_DIR = fileURLToPath(new URL('../../../python/tests/fake_pynvml', import.meta.url));

/** One faked GPU (see python/tests/fake_pynvml/pynvml/__init__.py for every key). */
export interface FakeGpu {
  uuid: string;
  name?: string;
  power_w?: number;
  power_limit_w?: number;
  [key: string]: unknown;
}

const KEYS = [
  'PYTHONPATH',
  'FAKE_PYNVML_CONFIG',
  'JOULES_WORKER_CPU_WITH_GPU_IDS',
  'JOULES_CACHE_DIR',
  'HF_HUB_OFFLINE',
];

/**
 * Make the real worker, started from this process, see `gpus` through the faked NVML while it runs
 * on CPU: the config goes to `<dir>/fake-nvml.json` (`t0: 0`, one power curve for every process),
 * and this process's environment gets PYTHONPATH, FAKE_PYNVML_CONFIG, JOULES_WORKER_CPU_WITH_GPU_IDS,
 * a cache under `dir` and HF_HUB_OFFLINE. Returns the function that puts the environment back.
 */
export async function useFakeNvml(dir: string, gpus: readonly FakeGpu[]): Promise<() => void> {
  const config = path.join(dir, 'fake-nvml.json');
  await writeFile(config, JSON.stringify({ devices: gpus, t0: 0 }));
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    PYTHONPATH: [FAKE_PYNVML_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
    FAKE_PYNVML_CONFIG: config,
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
