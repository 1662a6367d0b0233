import { type SearchSpec, type SuiteExperiment, startsServer } from '@joules/config';
import { serverKey } from '@joules/launcher';

/** One point of a search: a model × configuration, run for every cycle of the suite. */
export interface SearchPoint {
  /** `<model label>::<config name>`. */
  id: string;
  model: string;
  config: string;
  /** The setting of every axis but the bisected one (and the model): points of one context differ only in load. */
  context: string;
  /**
   * What needs a server of its own (launcher's serverKey: command with its args, model, GPUs, host,
   * environment); '' or absent when the engine starts none. The strategy finishes one setting first.
   */
  server?: string;
  /** The bisected axis' value; null when nothing is bisected. */
  load: number | null;
  /** Saturation: which probe this point is; a derived rate point says `rate`. */
  role?: 'sync' | 'throughput' | 'rate';
  /** What the configuration sets (axis → value), as the suite's variation records it. */
  factors: Record<string, unknown>;
}

/** A point's measured outcome over its cycles. */
export interface Verdict {
  /** Every constraint met by the mean over cycles; false too when no cycle produced a result. */
  met: boolean;
  /** Mean of the objective over cycles; null when it is empty in every row. */
  objective: number | null;
  /** Mean of each column the search reads (objective, constraints, throughput), null when empty. */
  means: Record<string, number | null>;
  /** Cycles with a result row (failed experiments have none). */
  cycles: number;
}

export type Verdicts = ReadonlyMap<string, Verdict>;

/** A point the search makes up from a measured one (a saturation rate), with what to override. */
export interface DerivedPoint {
  point: SearchPoint;
  /** The probe of the same model and context it is made from. */
  from: string;
  overrides: Record<string, unknown>;
}

/** Why a point is not run: a point that failed the SLO at a lower load, or one that met it at a higher load. */
export interface PrunedPoint {
  id: string;
  reason: 'slo' | 'dominated';
  by: string;
}

/** What a strategy decides from the verdicts so far. */
export interface SearchStep {
  /** Points to run next, in order (ids of the space, or of `derived`). */
  propose: string[];
  derived: DerivedPoint[];
  pruned: PrunedPoint[];
  /** Nothing left to run. */
  done: boolean;
}

const SATURATION_ROLES: Record<string, 'sync' | 'throughput'> = { sync: 'sync', throughput: 'throughput' };

/** The suffix saturation gives the probes' config names (`sync`, `<context>__sync`). */
function probeRole(config: string): 'sync' | 'throughput' | undefined {
  return SATURATION_ROLES[config.split('__').at(-1)!];
}

/**
 * The points of a search suite's expansion (first cycle of each model × configuration), in the
 * suite's order. The context of a point is its model and its factors without the bisected axis
 * (saturation: without the probe's load settings).
 */
export function searchSpace(experiments: readonly SuiteExperiment[], spec: SearchSpec): SearchPoint[] {
  const seen = new Set<string>();
  const out: SearchPoint[] = [];
  for (const e of experiments) {
    const id = `${e.model}::${e.config_name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const factors = e.variation.factors;
    const rest = Object.entries(factors).filter(([k]) => k !== spec.bisect && !k.startsWith('load.'));
    const load = spec.bisect === null ? null : Number(factors[spec.bisect]);
    const role = spec.strategy === 'saturation' ? probeRole(e.config_name) : undefined;
    out.push({
      id,
      model: e.model,
      config: e.config_name,
      context: JSON.stringify([e.model, ...rest]),
      server: startsServer(e.experiment) && e.experiment.server.url === null ? serverKey(e.experiment) : '',
      load,
      ...(role && { role }),
      factors,
    });
  }
  return out;
}

/** Points grouped by context, in first-seen order. */
export function byContext(points: readonly SearchPoint[]): SearchPoint[][] {
  const groups = new Map<string, SearchPoint[]>();
  for (const p of points) {
    const group = groups.get(p.context);
    if (group) group.push(p);
    else groups.set(p.context, [p]);
  }
  return [...groups.values()];
}
