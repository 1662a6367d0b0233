import {
  type CellValue,
  compareLevels,
  pooledMoments,
  type SampleMoments,
  type SampleStatistics,
  statisticsOf,
} from '@joules/metrics';
import type { ConfigSummary, ReportMetric } from './report-data.js';

/** n, mean, std, CV and the 95 % CI (Student's t) from moments: the method of the summaries. */
export const statsOf = (m: SampleMoments): SampleStatistics => statisticsOf(m.n, m.n > 0 ? m.mean : 0, m.squares);

/** A number with 4 significant digits (what the page shows; keeps the embedded data small). */
export const round4 = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toPrecision(4));

/** A model's short name (the part after the last "/"). */
export const shortModel = (v: CellValue): string =>
  String(v ?? '∅')
    .split('/')
    .at(-1) ?? '';

/** A factor level as a chart label. */
export const levelLabel = (v: CellValue): string => (v === null ? '∅' : String(v));

/** Pooled statistics of one group of configurations: its keys, n, mean and 95 % CI (rounded). */
export interface PooledGroup {
  [key: string]: string | number | null;
  n: number;
  mean: number | null;
  low: number | null;
  high: number | null;
}

/**
 * Mean and 95 % CI of `metric` over the experiments of each group of configurations (pooled from
 * the configurations' moments, never from raw rows), groups keyed by `keyOf`, in order of first
 * appearance. Groups without a value are left out.
 */
export function pooledGroups(
  configs: readonly ConfigSummary[],
  metric: ReportMetric,
  keyOf: (c: ConfigSummary) => Record<string, string>,
): PooledGroup[] {
  const groups = new Map<string, { keys: Record<string, string>; moments: SampleMoments[] }>();
  for (const c of configs) {
    const keys = keyOf(c);
    const id = Object.values(keys).join('\u0000');
    const g = groups.get(id);
    if (g) g.moments.push(c.metrics[metric]);
    else groups.set(id, { keys, moments: [c.metrics[metric]] });
  }
  const out: PooledGroup[] = [];
  for (const g of groups.values()) {
    const s = statsOf(pooledMoments(g.moments));
    if (s.n === 0) continue;
    const low = round4(s.ci95_low ?? s.mean);
    const high = round4(s.ci95_high ?? s.mean);
    out.push({ ...g.keys, n: s.n, mean: round4(s.mean), low, high });
  }
  return out;
}

/**
 * Mean and 95 % CI of `metric` at each level of `factor` (per model when `byModel`, else over all
 * models as model "all"), ordered as `levels`.
 */
export function levelPoints(
  configs: readonly ConfigSummary[],
  factor: string,
  levels: readonly CellValue[],
  metric: ReportMetric,
  byModel: boolean,
): PooledGroup[] {
  const order = new Map(levels.map((l, i) => [levelLabel(l), i]));
  const points = pooledGroups(configs, metric, (c) => ({
    level: levelLabel(c.factors[factor] ?? null),
    model: byModel ? shortModel(c.factors.model_name ?? null) : 'all',
  }));
  const rank = (p: PooledGroup) => order.get(p.level as string) ?? levels.length;
  return points.sort((a, b) => rank(a) - rank(b) || String(a.model).localeCompare(String(b.model)));
}

/** The distinct models of the configurations, sorted. */
export function modelsOf(configs: readonly ConfigSummary[]): string[] {
  return [...new Set(configs.map((c) => shortModel(c.factors.model_name ?? null)))].sort((a, b) => compareLevels(a, b));
}

/** A configuration's label in charts: model · name. */
export const configLabel = (c: ConfigSummary): string =>
  `${shortModel(c.factors.model_name ?? null)} · ${c.config_name}`;

/** A configuration's factors (other than the model) as text, for tooltips. */
export const configDetail = (c: ConfigSummary): string =>
  Object.entries(c.factors)
    .filter(([k, v]) => k !== 'model_name' && v !== null)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** The mean of a metric over a configuration's cycles (null: no value). */
export const meanOf = (c: ConfigSummary, m: 'energy_per_token_j' | 'throughput_tokens_per_s') =>
  c.metrics[m].n > 0 ? c.metrics[m].mean : null;

/**
 * An axis domain around the means (padded by 8 % of their span): CI bars from a few cycles can be
 * far wider than the spread of the points, so the charts clip them to this domain rather than
 * squeeze the points together. Null when there is no value.
 */
export function domainOf(values: readonly (number | null | undefined)[]): [number, number] | null {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!finite.length) return null;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.abs(hi) * 0.1 || 1;
  return [round4(lo >= 0 ? Math.max(0, lo - pad) : lo - pad)!, round4(hi + pad)!];
}
