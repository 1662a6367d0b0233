import type { SearchConstraint, SearchSpec } from '@joules/config';
import { paretoFront, type SampleStatistics } from '@joules/metrics';
import { RATE_COLUMN } from './saturation-strategy.js';
import type { PrunedPoint, SearchPoint, Verdicts } from './search-space.js';
import { figureStatistics, type NumericRow, searchColumns } from './search-verdict.js';

/** A measured point in the result: its settings, verdict and each figure over cycles (mean, 95 % CI). */
export interface MeasuredPoint {
  id: string;
  model: string;
  config: string;
  factors: Record<string, unknown>;
  met: boolean;
  cycles: number;
  figures: Record<string, SampleStatistics>;
}

/** What `search_result.json` holds. */
export interface SearchResult {
  suite: string;
  strategy: SearchSpec['strategy'];
  objective: string;
  constraints: SearchConstraint[];
  seed: number;
  /** The measured point with the least objective among those that met every constraint; null when none did. */
  chosen: MeasuredPoint | null;
  /** Experiments (point × cycle) the search ran or found done, against the full grid's count (saturation: probes + rates). */
  experiments: { search: number; grid: number };
  points: { measured: number; grid: number };
  /** Energy (the objective) against the SLO's latency (the first `<=` constraint): the ids of the non-dominated points, by objective ascending. */
  pareto: { x: string; y: string | null; front: string[] };
  measured: MeasuredPoint[];
  pruned: PrunedPoint[];
  /** Saturation: the measured point with the highest request rate. */
  saturation?: { point: string; requests_per_s: number | null; output_tokens_per_s: number | null } | null;
}

export interface SearchFacts {
  suite: string;
  spec: SearchSpec;
  cycles: number;
  /** Every point of the space, derived ones included. */
  points: readonly SearchPoint[];
  /** Points of the full grid (saturation: 2 probes + the rates per context). */
  gridPoints: number;
  verdicts: Verdicts;
  rows: ReadonlyMap<string, readonly NumericRow[]>;
  pruned: readonly PrunedPoint[];
}

/** The result of a search from its facts. Pure. */
export function searchResult(f: SearchFacts): SearchResult {
  const { spec } = f;
  const columns = searchColumns(spec);
  const measured: MeasuredPoint[] = f.points
    .filter((p) => f.verdicts.has(p.id))
    .map((p) => {
      const v = f.verdicts.get(p.id)!;
      const figures = figureStatistics(f.rows.get(p.id) ?? [], columns);
      return { id: p.id, model: p.model, config: p.config, factors: p.factors, met: v.met, cycles: v.cycles, figures };
    });
  const mean = (p: MeasuredPoint, c: string) => p.figures[c]?.mean ?? null;
  let chosen: MeasuredPoint | null = null;
  for (const p of measured) {
    const o = mean(p, spec.objective);
    if (p.met && o !== null && (chosen === null || o < mean(chosen, spec.objective)!)) chosen = p;
  }
  const y = spec.constraints.find((c) => c.op === '<=')?.column ?? null;
  const front = paretoFront(
    measured.map((p) => ({ x: mean(p, spec.objective), y: y === null ? 0 : negate(mean(p, y)) })),
  ).map((i) => measured[i]!.id);
  return {
    suite: f.suite,
    strategy: spec.strategy,
    objective: spec.objective,
    constraints: spec.constraints,
    seed: spec.seed,
    chosen,
    experiments: { search: measured.length * f.cycles, grid: f.gridPoints * f.cycles }, // every cycle of a measured point ran (or failed)
    points: { measured: measured.length, grid: f.gridPoints },
    pareto: { x: spec.objective, y, front },
    measured,
    pruned: [...f.pruned],
    ...(spec.strategy === 'saturation' && { saturation: saturationOf(measured) }),
  };
}

const negate = (v: number | null) => (v === null ? null : -v);

function saturationOf(measured: readonly MeasuredPoint[]): SearchResult['saturation'] {
  let best: MeasuredPoint | null = null;
  for (const p of measured) {
    const r = p.figures[RATE_COLUMN]?.mean ?? null;
    if (r !== null && (best === null || r > (best.figures[RATE_COLUMN]?.mean ?? 0))) best = p;
  }
  if (!best) return null;
  return {
    point: best.id,
    requests_per_s: best.figures[RATE_COLUMN]?.mean ?? null,
    output_tokens_per_s: best.figures.serving_output_tokens_per_s?.mean ?? null,
  };
}
