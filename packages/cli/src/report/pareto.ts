import { extentOf, paretoFront } from '@joules/metrics';
import type { ChartSpec } from './chart-specs.js';
import type { ConfigSummary } from './report-data.js';
import { configDetail, configLabel, meanOf, round4 } from './report-stats.js';
import { paretoChart } from './scatter-specs.js';

/** Cells per axis of the Pareto chart's density. */
const GRID = 18;
/** Points of the Pareto front drawn at most (evenly thinned beyond). */
const FRONT = 60;

/** Bins on an axis: equal widths, in log space when the values are positive and span 5× or more. */
function axisBins(values: readonly (number | null)[]) {
  const [lo, hi] = extentOf(values);
  const log = lo > 0 && hi / lo >= 5;
  const to = log ? Math.log10 : (v: number) => v;
  const from = log ? (v: number) => 10 ** v : (v: number) => v;
  const width = (to(hi) - to(lo)) / GRID || 1;
  return {
    log,
    bin: (v: number) => Math.min(GRID - 1, Math.floor((to(v) - to(lo)) / width)),
    edge: (b: number) => round4(from(to(lo) + b * width)),
  };
}

/** Configurations binned on J/token × throughput, and the Pareto front (thinned to FRONT points). */
export function pareto(configs: readonly ConfigSummary[]): ChartSpec {
  const points = configs.map((c) => ({ x: meanOf(c, 'energy_per_token_j'), y: meanOf(c, 'throughput_tokens_per_s') }));
  const bx = axisBins(points.map((p) => p.x));
  const by = axisBins(points.map((p) => p.y));
  const counts = new Map<number, number>();
  for (const p of points) {
    if (p.x === null || p.y === null) continue;
    const cell = bx.bin(p.x) * GRID + by.bin(p.y);
    counts.set(cell, (counts.get(cell) ?? 0) + 1);
  }
  const cells = [...counts].map(([cell, count]) => {
    const i = Math.floor(cell / GRID);
    const j = cell % GRID;
    return { x0: bx.edge(i), x1: bx.edge(i + 1), y0: by.edge(j), y1: by.edge(j + 1), count };
  });
  let front = paretoFront(points);
  if (front.length > FRONT) {
    const step = (front.length - 1) / (FRONT - 1);
    front = Array.from({ length: FRONT }, (_, k) => front[Math.round(k * step)]!);
  }
  const frontRows = front.map((i) => ({
    label: configLabel(configs[i]!),
    detail: configDetail(configs[i]!),
    x: round4(points[i]!.x),
    y: round4(points[i]!.y),
  }));
  return paretoChart('pareto', cells, frontRows, { logX: bx.log, logY: by.log });
}
