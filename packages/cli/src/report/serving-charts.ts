import { paretoFront, type SampleMoments } from '@joules/metrics';
import type { ChartSpec } from './chart-specs.js';
import type { ConfigSummary, ServingMetric } from './report-data.js';
import { domainOf, round4, shortModel, statsOf } from './report-stats.js';
import { servingParetoChart, throughputLatencyChart } from './serving-specs.js';

/** Serving configurations the serving charts draw at most (each ≤ 500 marks: a point and two CI rules per panel). */
export const MAX_SERVING_CONFIGS = 40;

/**
 * The goodput share a configuration's requests must reach (mean over cycles) to count as meeting the
 * SLO the experiments set (`slo.ttft_ms` / `slo.tpot_ms`): 95 % of requests, the example and
 * a common serving target.
 */
export const GOODPUT_TARGET = 0.95;

/** The config-name pieces a load sweep adds (`load.concurrency-4`, `load.rate-2`): not part of the server setting. */
const LOAD_PIECE = /^load\.(concurrency|rate)-/;

/** A configuration's series: its model and server setting (its name without the load pieces). */
export function seriesOf(c: ConfigSummary): string {
  const setting = c.config_name
    .split('__')
    .filter((p) => !LOAD_PIECE.test(p))
    .join('__');
  return `${shortModel(c.factors.model_name ?? null)} · ${setting || 'base'}`;
}

/** Mean and 95 % CI of a figure, scaled (e.g. s → ms), rounded; nulls when it has no value. */
function figure(m: SampleMoments | undefined, scale = 1) {
  const s = m ? statsOf(m) : null;
  if (!s || s.n === 0 || s.mean === null) return { mean: null, low: null, high: null };
  return {
    mean: round4(s.mean * scale),
    low: round4((s.ci95_low ?? s.mean) * scale),
    high: round4((s.ci95_high ?? s.mean) * scale),
  };
}

/** One serving configuration as the charts read it (latencies in ms). */
export interface ServingPoint {
  [key: string]: string | number | boolean | null;
  series: string;
  config: string;
  load: number | null;
  n: number;
  saturation: boolean;
  front_ttft: boolean;
  front_tpot: boolean;
  /** The least J per request among the configurations that met the SLO (see chosenPoint). */
  chosen: boolean;
}

/** Each serving configuration's figures (mean, CI) with the saturation point and the Pareto fronts of each series marked. */
export function servingPoints(configs: readonly ConfigSummary[]): ServingPoint[] {
  const points: ServingPoint[] = [];
  for (const c of configs) {
    const s = c.serving;
    if (!s || c.factors.engine !== 'server' || s.serving_output_tokens_per_s.n === 0) continue;
    const flat: Record<string, number | null> = {};
    const put = (name: string, metric: ServingMetric, scale = 1) => {
      const f = figure(s[metric], scale);
      Object.assign(flat, { [name]: f.mean, [`${name}_low`]: f.low, [`${name}_high`]: f.high });
    };
    put('tps', 'serving_output_tokens_per_s');
    put('ttft', 'serving_ttft_p90_s', 1000);
    put('tpot', 'serving_tpot_p90_s', 1000);
    put('epr', 'serving_energy_per_request_j');
    put('goodput', 'serving_goodput_share');
    const rate = c.factors.load_rate;
    const load = typeof rate === 'number' ? rate : c.factors.load_concurrency;
    points.push({
      ...flat,
      series: seriesOf(c),
      config: c.config_name,
      load: typeof load === 'number' ? load : null,
      n: c.n,
      saturation: false,
      front_ttft: false,
      front_tpot: false,
      chosen: false,
    });
  }
  const bySeries = new Map<string, ServingPoint[]>();
  for (const p of points) bySeries.set(p.series, [...(bySeries.get(p.series) ?? []), p]);
  for (const group of bySeries.values()) {
    // Saturation: the load at which the series' output throughput peaks.
    const top = group.reduce((a, b) => ((b.tps as number) > (a.tps as number) ? b : a));
    top.saturation = true;
    for (const latency of ['ttft', 'tpot'] as const) {
      const front = paretoFront(group.map((p) => ({ x: p.epr as number | null, y: neg(p[latency] as number | null) })));
      for (const i of front) group[i]![`front_${latency}`] = true;
    }
  }
  const chosen = chosenPoint(points);
  if (chosen) chosen.chosen = true;
  return points.sort((a, b) => a.series.localeCompare(b.series) || (a.load ?? 0) - (b.load ?? 0));
}

/**
 * The sweep's answer: the configuration with the least J per request (mean over cycles) among those
 * whose goodput share reached GOODPUT_TARGET; when no experiment set an SLO (no goodput anywhere),
 * among all. Null when none qualifies or none has an energy.
 */
export function chosenPoint(points: readonly ServingPoint[]): ServingPoint | null {
  const slo = points.some((p) => p.goodput !== null);
  let best: ServingPoint | null = null;
  for (const p of points) {
    if (p.epr === null || (slo && (p.goodput === null || (p.goodput as number) < GOODPUT_TARGET))) continue;
    if (!best || (p.epr as number) < (best.epr as number)) best = p;
  }
  return best;
}

const neg = (v: number | null) => (v === null ? null : -v);

/**
 * The charts of a serving study: the throughput–latency curve of each series (ordered by load,
 * the saturation point marked) and the Pareto front of J per request against p90 TTFT and TPOT,
 * with 95 % CI bars. `notes` says what was left out.
 */
export function servingCharts(configs: readonly ConfigSummary[], notes: string[]): ChartSpec[] {
  const points = servingPoints(configs);
  if (!points.length) return [];
  if (points.length > MAX_SERVING_CONFIGS) {
    notes.push(
      `${points.length} serving configurations: the throughput–latency and Pareto charts draw at most ${MAX_SERVING_CONFIGS} (see the table of configurations).`,
    );
    return [];
  }
  const domains = Object.fromEntries(
    ['tps', 'ttft', 'tpot', 'epr'].map((f) => [f, domainOf(points.map((p) => p[f] as number | null))]),
  );
  const charts = [throughputLatencyChart('serving-throughput-latency', points, domains)];
  if (points.some((p) => p.epr !== null))
    charts.push(servingParetoChart('serving-pareto', points, domains, GOODPUT_TARGET));
  else
    notes.push(
      'No serving experiment has an energy per request (no energy backend?): the serving Pareto front is left out.',
    );
  return charts;
}
