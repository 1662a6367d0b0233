import type { ChartSpec } from './chart-specs.js';

type Values = readonly Record<string, unknown>[];
/** Each field's axis domain (the means, padded); CI bars are clipped to it. */
export type Domains = Record<string, [number, number] | null>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const LATENCIES = [
  { key: 'ttft', title: 'p90 time to first token (ms)' },
  { key: 'tpot', title: 'p90 time per output token (ms)' },
] as const;

const color = {
  field: 'series',
  type: 'nominal',
  title: 'model · server setting',
  legend: { orient: 'bottom', direction: 'vertical', labelLimit: 600 },
};
const tooltip = (fields: string[]) => fields.map((field) => ({ field }));

/** A quantitative channel on `field`, its scale's domain from `domains` (the means, padded). */
const axis = (field: string, title: string, domains: Domains) => ({
  field,
  type: 'quantitative',
  title,
  scale: { zero: false, ...(domains[field] && { domain: domains[field] }) },
});

/** A point per configuration with its 95 % CI as rules on both axes (clipped to the plot). */
function pointsWithIntervals(x: string, y: string, xTitle: string, yTitle: string, filled: boolean, domains: Domains) {
  const X = axis(x, xTitle, domains);
  const Y = axis(y, yTitle, domains);
  return [
    {
      mark: { type: 'rule', opacity: 0.6, clip: true },
      encoding: { x: X, y: { ...Y, field: `${y}_low` }, y2: { field: `${y}_high` }, color },
    },
    {
      mark: { type: 'rule', opacity: 0.6, clip: true },
      encoding: { y: Y, x: { ...X, field: `${x}_low` }, x2: { field: `${x}_high` }, color },
    },
    {
      mark: { type: 'point', filled, size: 50 },
      encoding: {
        x: X,
        y: Y,
        color,
        tooltip: tooltip(['series', 'config', 'load', 'n', x, `${x}_low`, `${x}_high`, y, `${y}_low`, `${y}_high`]),
      },
    },
  ];
}

/** A ring and a label over the points `filter` keeps (the saturation point, the chosen point). */
function ringed(filter: string, x: string, y: string, label: string, fields: string[] = []) {
  const at = { x: { field: x, type: 'quantitative' }, y: { field: y, type: 'quantitative' } };
  return [
    {
      transform: [{ filter }],
      mark: { type: 'point', shape: 'circle', size: 260, strokeWidth: 2, color: '#222', filled: false },
      encoding: { ...at, ...(fields.length && { tooltip: tooltip(fields) }) },
    },
    {
      transform: [{ filter }],
      mark: { type: 'text', dy: -14, fontSize: 11, color: '#222' },
      encoding: { ...at, text: { value: label } },
    },
  ];
}

/**
 * The throughput–latency curve of each series: output tokens/s against p90 TTFT and p90 TPOT, a
 * line per series in the order of load, its saturation point (peak throughput) ringed.
 */
export function throughputLatencyChart(id: string, points: Values, domains: Domains): ChartSpec {
  const title = 'Throughput against latency, by load';
  const panel = (key: string, xTitle: string) => ({
    width: 320,
    height: 240,
    data: { name: id },
    layer: [
      {
        mark: { type: 'line', opacity: 0.8 },
        encoding: {
          x: axis(key, xTitle, domains),
          y: axis('tps', 'output tokens / s', domains),
          order: { field: 'load' },
          color,
        },
      },
      ...pointsWithIntervals(key, 'tps', xTitle, 'output tokens / s', true, domains),
      ...ringed('datum.saturation', key, 'tps', 'saturation'),
    ],
  });
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle:
          'mean over cycles per load level, a line per model · server setting in the order of load; ringed: the saturation point (peak throughput); bars: 95 % CI (Student t, clipped to the plot)',
        anchor: 'start',
      },
      datasets: { [id]: points },
      hconcat: LATENCIES.map((l) => panel(l.key, l.title)),
    },
  };
}

/**
 * J per request against p90 TTFT and p90 TPOT: every configuration (hollow), a line through each
 * series' Pareto front (the configurations no other of the series beats on both), and the chosen
 * point ringed (`datum.chosen`: the least J per request that met the SLO).
 */
export function servingParetoChart(id: string, points: Values, domains: Domains, goodputTarget: number): ChartSpec {
  const title = 'Energy per request against latency: the Pareto front';
  const yTitle = 'J per request (mean over cycles)';
  const panel = (key: string, xTitle: string) => ({
    width: 320,
    height: 240,
    data: { name: id },
    layer: [
      ...pointsWithIntervals(key, 'epr', xTitle, yTitle, false, domains),
      {
        transform: [{ filter: `datum.front_${key}` }],
        mark: { type: 'line', point: { filled: true, size: 60 }, strokeWidth: 2 },
        encoding: {
          x: axis(key, xTitle, domains),
          y: axis('epr', yTitle, domains),
          order: { field: key },
          color,
          tooltip: tooltip(['series', 'config', 'load', key, 'epr']),
        },
      },
      ...ringed('datum.chosen', key, 'epr', 'chosen', ['series', 'config', 'load', key, 'epr', 'goodput']),
    ],
  });
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: `hollow: every configuration (mean over cycles, bars: 95 % CI, clipped to the plot); line: the Pareto front of each model · server setting (lower is better on both); ringed: chosen, the least J per request with a goodput share ≥ ${goodputTarget} (the experiments' SLO; any, when none set one)`,
        anchor: 'start',
      },
      datasets: { [id]: points },
      hconcat: LATENCIES.map((l) => panel(l.key, l.title)),
    },
  };
}
