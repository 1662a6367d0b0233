import { paretoFront, type SampleMoments, statisticsOf } from '@joules/metrics/stats';
import type { ParsedResult, ServingFigures } from './result-row.js';

/**
 * One serving configuration (model × configuration of engine "server") over its cycles: each figure's
 * mean and 95 % interval (Student t; null under 2 cycles), latencies in ms. `series`: the model and
 * server setting (the configuration's name without its load pieces), one curve per series.
 */
export interface ServingPoint {
  /** Stable id (model and configuration): a delta replaces the point of the same key. */
  key: string;
  series: string;
  config: string;
  load: number | null;
  /** Cycles with an output throughput. */
  n: number;
  tps: number | null;
  tps_low: number | null;
  tps_high: number | null;
  ttft: number | null;
  ttft_low: number | null;
  ttft_high: number | null;
  tpot: number | null;
  epr: number | null;
  epr_low: number | null;
  epr_high: number | null;
  /** The load of the series' peak output throughput. */
  saturation: boolean;
  /** On the series' Pareto front of J per request against p90 TTFT (no other point of it lower on both). */
  front: boolean;
}

/**
 * The serving charts' data, bounded: at most MAX_SERVING_POINTS points, whole series in the order of
 * their lowest J per request (`omitted`: the points of the series left out). `load`: what the load
 * levels are (requests/s or concurrent requests; `mixed` when both).
 */
export interface ServingData {
  load: 'rate' | 'concurrency' | 'mixed' | null;
  points: ServingPoint[];
  omitted: number;
}

export const MAX_SERVING_POINTS = 120;
const FIGURES = ['tps', 'ttft', 'tpot', 'epr'] as const;
type Figure = (typeof FIGURES)[number];
/** Latencies are shown in ms. */
const SCALE: Record<Figure, number> = { tps: 1, ttft: 1000, tpot: 1000, epr: 1 };
/** The config-name pieces a load sweep adds (`load.concurrency-4`, `load.rate-2`): not part of the server setting. */
const LOAD_PIECE = /^load\.(concurrency|rate)-/;

interface Config {
  key: string;
  series: string;
  config: string;
  load: number | null;
  moments: Record<Figure, SampleMoments>;
}

const shortName = (m: string) => m.split('/').at(-1) ?? m;
const round = (v: number | null) => (v === null ? null : Number(v.toPrecision(6)));

/** A configuration's series: its model and server setting. */
export function seriesOf(model: string, config: string): string {
  const setting = config
    .split('__')
    .filter((p) => !LOAD_PIECE.test(p))
    .join('__');
  return `${shortName(model)} · ${setting || 'base'}`;
}

/** Per serving configuration moments of the figures, added one row at a time (Welford). */
export class ServingAggregates {
  readonly #configs = new Map<string, Config>();
  readonly #kinds = new Set<'rate' | 'concurrency'>();
  #cached: ServingData | null | undefined;

  add(row: ParsedResult): void {
    const s = row.serving;
    if (!s) return;
    this.#cached = undefined;
    if (s.loadKind) this.#kinds.add(s.loadKind);
    const key = `${row.model}\n${row.config}`;
    let c = this.#configs.get(key);
    if (!c) {
      const moments = Object.fromEntries(FIGURES.map((f) => [f, { n: 0, mean: 0, squares: 0 }]));
      c = { key, series: seriesOf(row.model, row.config), config: row.config, load: s.load, moments } as Config;
      this.#configs.set(key, c);
    }
    for (const f of FIGURES) welford(c.moments[f], s[f] as ServingFigures[Figure]);
  }

  /** The points, null when no row is a serving row. */
  data(): ServingData | null {
    if (this.#cached === undefined) this.#cached = this.#configs.size ? this.#build() : null;
    return this.#cached;
  }

  #build(): ServingData {
    const bySeries = new Map<string, ServingPoint[]>();
    for (const c of this.#configs.values()) {
      if (c.moments.tps.n === 0) continue;
      const list = bySeries.get(c.series) ?? [];
      list.push(pointOf(c));
      bySeries.set(c.series, list);
    }
    const all = [...bySeries.values()];
    for (const series of all) mark(series);
    const best = (ps: ServingPoint[]) => Math.min(...ps.map((p) => p.epr ?? Number.POSITIVE_INFINITY));
    all.sort((a, b) => best(a) - best(b) || a[0]!.series.localeCompare(b[0]!.series));
    const points: ServingPoint[] = [];
    let omitted = 0;
    for (const series of all) {
      if (points.length + series.length > MAX_SERVING_POINTS) omitted += series.length;
      else points.push(...series.sort((a, b) => (a.load ?? 0) - (b.load ?? 0)));
    }
    const kinds = [...this.#kinds];
    return { load: kinds.length > 1 ? 'mixed' : (kinds[0] ?? null), points, omitted };
  }
}

function welford(m: SampleMoments, v: number | null): void {
  if (v === null) return;
  m.n++;
  const delta = v - m.mean;
  m.mean += delta / m.n;
  m.squares += delta * (v - m.mean);
}

function pointOf(c: Config): ServingPoint {
  const fig = (f: Figure) => {
    const m = c.moments[f];
    const s = statisticsOf(m.n, m.mean, m.squares);
    const scaled = (v: number | null) => round(v === null ? null : v * SCALE[f]);
    return { mean: scaled(s.mean), low: scaled(s.ci95_low), high: scaled(s.ci95_high) };
  };
  const [tps, ttft, tpot, epr] = FIGURES.map(fig) as [Fig, Fig, Fig, Fig];
  return {
    key: c.key,
    series: c.series,
    config: c.config,
    load: c.load,
    n: c.moments.tps.n,
    tps: tps.mean,
    tps_low: tps.low,
    tps_high: tps.high,
    ttft: ttft.mean,
    ttft_low: ttft.low,
    ttft_high: ttft.high,
    tpot: tpot.mean,
    epr: epr.mean,
    epr_low: epr.low,
    epr_high: epr.high,
    saturation: false,
    front: false,
  };
}
type Fig = { mean: number | null; low: number | null; high: number | null };

/** A series' saturation point (its peak output throughput) and its Pareto front (J per request and p90 TTFT, both lower). */
function mark(series: ServingPoint[]): void {
  const top = series.reduce((a, b) => ((b.tps ?? -1) > (a.tps ?? -1) ? b : a));
  top.saturation = true;
  const front = paretoFront(series.map((p) => ({ x: p.epr, y: p.ttft === null ? null : -p.ttft })));
  for (const i of front) series[i]!.front = true;
}
