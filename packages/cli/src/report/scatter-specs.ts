import type { ChartSpec } from './chart-specs.js';

type Values = readonly Record<string, unknown>[];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * Configurations on J/token (x, lower is better) against throughput (y, higher is better) as a
 * binned density, with the Pareto front drawn over it.
 */
export function paretoChart(
  id: string,
  cells: Values,
  front: Values,
  scales: { logX: boolean; logY: boolean },
): ChartSpec {
  const title = 'Energy per token against throughput: the Pareto front';
  const scale = (log: boolean) => (log ? { scale: { type: 'log' } } : {});
  const x = { type: 'quantitative', title: 'J per generated token (mean over cycles)', ...scale(scales.logX) };
  const y = { type: 'quantitative', title: 'generated tokens / s (mean over cycles)', ...scale(scales.logY) };
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: `shade: configurations per cell; red: the configurations no other beats on both${
          scales.logX || scales.logY ? ' (log scale)' : ''
        }`,
        anchor: 'start',
      },
      datasets: { [`${id}-cells`]: cells, [`${id}-front`]: front },
      width: 620,
      height: 320,
      layer: [
        {
          data: { name: `${id}-cells` },
          mark: 'rect',
          encoding: {
            x: { ...x, field: 'x0' },
            x2: { field: 'x1' },
            y: { ...y, field: 'y0' },
            y2: { field: 'y1' },
            color: { field: 'count', type: 'quantitative', title: 'configurations', scale: { scheme: 'greys' } },
            tooltip: [{ field: 'count' }],
          },
        },
        {
          data: { name: `${id}-front` },
          mark: { type: 'line', point: { filled: true, color: '#d62728' }, color: '#d62728' },
          encoding: {
            x: { ...x, field: 'x' },
            y: { ...y, field: 'y' },
            order: { field: 'x' },
            tooltip: [
              { field: 'label' },
              { field: 'detail' },
              { field: 'x', title: 'J/token' },
              { field: 'y', title: 'tokens/s' },
            ],
          },
        },
      ],
    },
  };
}

/** Every experiment of a small study, one row per configuration (the spread of its cycles). */
export function experimentSpreadChart(id: string, rows: Values): ChartSpec {
  const title = 'Spread over cycles';
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: 'every experiment, one row per configuration', anchor: 'start' },
      datasets: { [id]: rows },
      data: { name: id },
      width: 520,
      mark: { type: 'point', filled: true, opacity: 0.7 },
      encoding: {
        y: { field: 'config', type: 'nominal', title: 'configuration' },
        x: { field: 'energy_per_token_j', type: 'quantitative', title: 'J per generated token' },
        color: { field: 'model', type: 'nominal' },
        tooltip: [{ field: 'experiment_id' }, { field: 'cycle_id' }, { field: 'energy_per_token_j' }],
      },
    },
  };
}
