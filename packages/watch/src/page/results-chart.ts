import type { ChartData, Factor } from '../chart-data.js';

/**
 * J/token against the factor the suite varies, one colour per model: a point at the mean of each
 * chart group (ChartGroup) and a rule from its lowest to its highest row. The data is the named
 * dataset `groups`: the page sets `datasets.groups` from the status and its deltas.
 */
export function resultsChartSpec(factor: Factor, per: ChartData['per']): Record<string, unknown> {
  const x = {
    field: 'x',
    type: factor.type,
    title: factor.field.replace(/_/g, ' '),
    ...(factor.type === 'nominal' && { sort: 'ascending' }),
    // The quantitative factors are counts >= 1 that suites step in powers (batch 1..128): a log axis
    // spreads them evenly instead of crowding the small ones at the left.
    ...(factor.type === 'quantitative' && { scale: { type: 'log', base: 2 }, axis: { tickMinStep: 1 } }),
  };
  const color = { field: 'model', type: 'nominal', title: 'model' };
  const over = per === 'configuration' ? 'its cycles' : `every configuration of that ${factor.field}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Energy per token as recorded',
      subtitle: `against ${factor.field}: the mean of ${over}, the rule spans them`,
    },
    width: 560,
    height: 300,
    data: { name: 'groups' },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 },
        encoding: { x, color, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x,
          color,
          y: { field: 'mean', type: 'quantitative', title: 'J per generated token' },
          tooltip: [
            { field: 'model' },
            { field: 'x', title: factor.field },
            { field: 'n', title: 'rows' },
            { field: 'configs', title: 'configurations' },
            { field: 'mean', format: '.3g' },
            { field: 'min', format: '.3g' },
            { field: 'max', format: '.3g' },
          ],
        },
      },
    ],
  };
}
