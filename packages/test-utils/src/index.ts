import { fileURLToPath } from 'node:url';

export { CHECKOUT_ROOT, copyCheckout } from './checkout-copy.js';
export {
  FAKE_PYNVML_DIR,
  type FakeGpu,
  type FakeGpuSettings,
  readFakeNvmlState,
  useFakeNvml,
} from './fake-nvml.js';
export { alive, processesWithEnv, stillAlive, treeOf, workersOf } from './processes.js';
export { CYCLES, LOADS, SETTINGS, servingConfig, servingRow, servingRows, writeServingRows } from './serving-rows.js';
export { type SlurmCluster, slurmUnavailable, startSlurmCluster, stopSlurmClusters } from './slurm-cluster.js';
export {
  onLastCore,
  VLLM_CPU_ENV,
  VLLM_MODEL,
  VLLM_PYTHON,
  VLLM_VENV,
  vllmRequired,
  vllmServerCommand,
  vllmUnavailable,
} from './vllm.js';

/**
 * A fault-injecting OpenAI-style server (`node fault-server.mjs --port P --mode MODE [--child]`): the
 * faults a real inference server cannot be made to show on demand (crash, garbage, stall, ...).
 */
export const FAULT_SERVER = fileURLToPath(new URL('./fault-server.mjs', import.meta.url));
