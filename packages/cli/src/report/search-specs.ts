import type { ChartSpec } from './chart-specs.js';

type Values = readonly Record<string, unknown>[];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * A search's measured points: the objective (y) against the SLO's latency column (x), with 95 %
 * CI bars, coloured by whether they met the SLO, the Pareto front drawn through them, the SLO's
 * bound as a dashed rule and the chosen point ringed.
 */
export function searchParetoChart(
  id: string,
  points: Values,
  axes: {
    x: string;
    y: string;
    slo: number | null;
    xDomain: [number, number] | null;
    yDomain: [number, number] | null;
  },
): ChartSpec {
  const title = `Search: ${axes.y} against ${axes.x}, the Pareto front`;
  const scale = (domain: [number, number] | null) => ({ zero: false, ...(domain && { domain }) });
  const X = { field: 'x', type: 'quantitative', title: `${axes.x} (mean over cycles)`, scale: scale(axes.xDomain) };
  const Y = { field: 'y', type: 'quantitative', title: `${axes.y} (mean over cycles)`, scale: scale(axes.yDomain) };
  const color = {
    field: 'verdict',
    type: 'nominal',
    title: 'SLO',
    scale: { domain: ['met the SLO', 'failed the SLO'], range: ['#2ca02c', '#999999'] },
  };
  const sloLayers =
    axes.slo === null
      ? []
      : [
          {
            data: { values: [{ slo: axes.slo }] },
            mark: { type: 'rule', strokeDash: [6, 4], color: '#d62728', clip: true },
            encoding: { x: { field: 'slo', type: 'quantitative' } },
          },
          {
            data: { values: [{ slo: axes.slo, label: `SLO ≤ ${axes.slo}` }] },
            mark: { type: 'text', align: 'left', dx: 4, baseline: 'top', color: '#d62728', y: 4 },
            encoding: { x: { field: 'slo', type: 'quantitative' }, text: { field: 'label' } },
          },
        ];
  const on = (filter: string) => ({ data: { name: id }, transform: [{ filter }] });
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle:
          'every measured point (mean over its cycles, bars: 95 % CI, Student t, clipped to the plot); line: the Pareto front (lower is better on both); ringed: the chosen point',
        anchor: 'start',
      },
      datasets: { [id]: points },
      width: 620,
      height: 320,
      layer: [
        ...sloLayers,
        {
          data: { name: id },
          mark: { type: 'rule', opacity: 0.4, clip: true },
          encoding: { x: X, y: { ...Y, field: 'y_low' }, y2: { field: 'y_high' }, color },
        },
        {
          data: { name: id },
          mark: { type: 'rule', opacity: 0.4, clip: true },
          encoding: { y: Y, x: { ...X, field: 'x_low' }, x2: { field: 'x_high' }, color },
        },
        {
          ...on('datum.front'),
          mark: { type: 'line', color: '#1f77b4', strokeWidth: 2 },
          encoding: { x: X, y: Y, order: { field: 'x' } },
        },
        {
          data: { name: id },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: X,
            y: Y,
            color,
            shape: {
              field: 'role',
              type: 'nominal',
              title: null,
              scale: { domain: ['on the Pareto front', 'dominated'], range: ['diamond', 'circle'] },
            },
            tooltip: ['id', 'n', 'x', 'x_low', 'x_high', 'y', 'y_low', 'y_high', 'verdict', 'front', 'chosen'].map(
              (field) => ({ field }),
            ),
          },
        },
        {
          ...on('datum.chosen'),
          mark: { type: 'point', size: 420, strokeWidth: 2.5, color: '#000', filled: false },
          encoding: { x: X, y: Y },
        },
        {
          ...on('datum.chosen'),
          mark: { type: 'text', dy: -18, fontWeight: 'bold' },
          encoding: { x: X, y: Y, text: { value: 'chosen' } },
        },
      ],
    },
  };
}
