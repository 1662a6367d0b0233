import { controlsGpus, type Experiment, engineTraits, isEngine } from '@joules/config';
import type { Launcher } from '../launcher.js';

/**
 * What decides the loaded model and the process world. Experiments with equal load settings can
 * share one worker session (python/joules_worker/engines/transformers/session.py checks the same fields).
 */
export function loadSettings(e: Experiment): Record<string, unknown> {
  return {
    model_name: e.model_name,
    'model.revision': e.model.revision,
    'model.quantization': e.model.quantization,
    'model.attn_implementation': e.model.attn_implementation,
    'model.trust_remote_code': e.model.trust_remote_code,
    'model.is_encoder_decoder': e.model.is_encoder_decoder,
    'model.inference_type': e.model.inference_type,
    precision: e.precision,
    num_processes: e.num_processes,
    gpu_ids: [...e.gpu_ids],
    'launch.launcher': e.launch.launcher,
    'sharding.strategy': e.sharding.strategy,
  };
}

/** Equal keys = the same model load (a stable JSON string of `loadSettings`). */
export function loadSettingsKey(e: Experiment): string {
  return JSON.stringify(loadSettings(e));
}

/** The load settings where `b` differs from `a`, as `name: b (session: a)`. */
export function loadSettingsDiff(a: Experiment, b: Experiment): string[] {
  const sa = loadSettings(a);
  const sb = loadSettings(b);
  return Object.keys(sa)
    .filter((k) => JSON.stringify(sa[k]) !== JSON.stringify(sb[k]))
    .map((k) => `${k}: ${JSON.stringify(sb[k])} (session: ${JSON.stringify(sa[k])})`);
}

const SESSION_LAUNCHERS = new Set(['python', 'accelerate']);

/**
 * Why `experiment` cannot run in a worker session with `launcher`, or null when it can: sessions
 * need the python or accelerate launcher (a command with the worker's arguments last), one
 * machine, the transformers engine, and no `gpu` settings.
 */
export function sessionSupport(launcher: Launcher, experiment: Experiment): string | null {
  if (!SESSION_LAUNCHERS.has(launcher.name) || typeof launcher.command !== 'function') {
    return `launcher ${JSON.stringify(launcher.name)} cannot keep a model loaded across experiments (python and accelerate can)`;
  }
  if (experiment.launch.machines.num_machines > 1) return 'experiments on several machines run one launch each';
  const engine = (experiment as { engine?: unknown }).engine;
  if (engine !== undefined && !(isEngine(engine) && engineTraits(engine).supportsSessions))
    return `engine ${JSON.stringify(engine)} keeps its own server; no worker session`;
  if ((experiment as Partial<Experiment>).gpu && controlsGpus(experiment))
    return 'gpu.power_limit_w / gpu.sm_clock_mhz are set around one launch each (the GPU guard); no worker session';
  return null;
}
