import { ConfigError } from '../errors.js';

// The energy backends, one entry each. `energy.backend`'s zod enum ("auto" and these names), the
// GPU rule, the shared-host rule and `joules doctor`'s energy lines come from here; the worker has
// the matching registry (joules_worker.energy.BACKENDS and AUTO_ORDER, each class with the same
// traits as ClassVars), held to contract/engines.json by a pytest.

/** What a backend reads: the job's GPUs, the host's CPU packages, the host's memory. */
export type EnergyScope = 'gpu' | 'cpu' | 'ram';

export interface EnergyBackendTraits {
  /** What it reads. */
  reads: readonly EnergyScope[];
  /** Reads its counters mid-span (sampled through a serving load: the steady window's own energy). */
  midSpan: boolean;
  /** Reads the whole host (CPU packages, RAM): jobs side by side on one host would count each other. */
  hostScoped: boolean;
  /** Measures GPUs: an experiment without gpu_ids cannot use it. */
  needsGpus: boolean;
  /** Its place in `auto`'s order (1 is tried first); null: auto never picks it. */
  autoOrder: number | null;
  /** `joules doctor`'s line for it (the worker's backend class probes it), or null: no line of its own. */
  doctor: { label: string; measures: string } | null;
}

export const ENERGY_BACKENDS = {
  nvml: {
    reads: ['gpu'],
    midSpan: true,
    hostScoped: false,
    needsGpus: true,
    autoOrder: 1,
    doctor: { label: 'NVML', measures: 'GPU' },
  },
  zeus: {
    reads: ['gpu', 'cpu', 'ram'],
    midSpan: false,
    hostScoped: true,
    needsGpus: true,
    autoOrder: null,
    doctor: null,
  },
  codecarbon: {
    reads: ['gpu', 'cpu', 'ram'],
    midSpan: false,
    hostScoped: true,
    needsGpus: false,
    autoOrder: 3,
    doctor: null,
  },
  rapl: {
    reads: ['cpu', 'ram'],
    midSpan: true,
    hostScoped: true,
    needsGpus: false,
    autoOrder: 2,
    doctor: { label: 'RAPL', measures: 'CPU' },
  },
  none: { reads: [], midSpan: false, hostScoped: false, needsGpus: false, autoOrder: 4, doctor: null },
} as const satisfies Record<string, EnergyBackendTraits>;

export type EnergyBackendName = keyof typeof ENERGY_BACKENDS;
/** The backends, in the table's order. */
export const ENERGY_BACKEND_NAMES = Object.keys(ENERGY_BACKENDS) as [EnergyBackendName, ...EnergyBackendName[]];

/** What `auto` tries, in order. */
export const AUTO_ORDER: readonly EnergyBackendName[] = ENERGY_BACKEND_NAMES.filter(
  (n) => ENERGY_BACKENDS[n].autoOrder !== null,
).sort((a, b) => (ENERGY_BACKENDS[a].autoOrder ?? 0) - (ENERGY_BACKENDS[b].autoOrder ?? 0));

/** Whether `name` is a backend of the table ("auto" is none: it picks one). */
export function isEnergyBackend(name: unknown): name is EnergyBackendName {
  return typeof name === 'string' && Object.hasOwn(ENERGY_BACKENDS, name);
}

/** A backend's traits; an unknown name (or "auto", which is no backend) is a ConfigError. */
export function backendTraits(name: string): EnergyBackendTraits {
  if (!isEnergyBackend(name))
    throw new ConfigError(
      `unknown energy backend ${JSON.stringify(name)} (known: ${ENERGY_BACKEND_NAMES.join(', ')})`,
      'UNKNOWN_ENERGY_BACKEND',
    );
  return ENERGY_BACKENDS[name];
}

/**
 * The backend an experiment's `energy.backend` stands for as far as the config can tell: the named
 * one, or for "auto" the first of its order that the experiment can use (with gpu_ids: a GPU
 * backend). Whether it can run on the host only the worker knows (it then tries the next).
 */
export function plannedBackend(e: { energy: { backend: string }; gpu_ids: readonly number[] }): EnergyBackendName {
  if (isEnergyBackend(e.energy.backend)) return e.energy.backend;
  const usable = AUTO_ORDER.filter((n) => !ENERGY_BACKENDS[n].needsGpus || e.gpu_ids.length > 0);
  return usable[0] ?? AUTO_ORDER[AUTO_ORDER.length - 1]!;
}

/** What `auto` picks on CPU (no gpu_ids) among the backends that read something: `rapl or codecarbon`. */
export const autoOnCpu = (): string =>
  AUTO_ORDER.filter((n) => !ENERGY_BACKENDS[n].needsGpus && ENERGY_BACKENDS[n].reads.length > 0).join(' or ');
