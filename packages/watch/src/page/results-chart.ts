import type { ChartData, Factor } from '../chart-data.js';

/**
 * J/token against the factor the suite varies, one colour per model: a point at the mean of each
 * chart group (ChartGroup), a bar over its 95 % interval (Student t; groups of one row have none)
 * and a thin rule from its lowest to its highest row. The data is the named dataset `groups`: the
 * page sets `datasets.groups` from the status and its deltas.
 */
export function resultsChartSpec(factor: Factor, per: ChartData['per']): Record<string, unknown> {
  const x = {
    field: 'x',
    type: factor.type,
    title: factor.field.replace(/_/g, ' '),
    ...(factor.type === 'nominal' && { sort: 'ascending' }),
    // The quantitative factors are counts >= 1 that suites step in powers (batch 1..128): a log axis
    // spreads them evenly instead of crowding the small ones at the left.
    ...(factor.type === 'quantitative' && { scale: { type: 'log', base: 2, padding: 16 }, axis: { tickMinStep: 1 } }),
  };
  const color = { field: 'model', type: 'nominal', title: 'model' };
  const over = per === 'configuration' ? 'its cycles' : `every configuration of that ${factor.field}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Energy per token as recorded',
      subtitle: `against ${factor.field}: the mean of ${over}; bar: its 95 % interval (Student t, drawn within the rows' range), thin rule: lowest to highest`,
    },
    width: 560,
    height: 300,
    data: { name: 'groups' },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1, opacity: 0.35 },
        encoding: { x, color, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } },
      },
      {
        // A few cycles make a wide interval (t = 4.3 at 3): drawn within the rows' range, so that it
        // cannot stretch the axis (below 0 J, say); the tooltip gives it whole.
        transform: [
          {
            joinaggregate: [
              { op: 'min', field: 'min', as: 'lo' },
              { op: 'max', field: 'max', as: 'hi' },
            ],
          },
          { filter: 'isValid(datum.ci95_low) && isValid(datum.ci95_high)' },
          { calculate: 'max(datum.ci95_low, datum.lo)', as: 'ci_low_shown' },
          { calculate: 'min(datum.ci95_high, datum.hi)', as: 'ci_high_shown' },
        ],
        mark: { type: 'rule', strokeWidth: 4, opacity: 0.7, strokeCap: 'round' },
        encoding: { x, color, y: { field: 'ci_low_shown', type: 'quantitative' }, y2: { field: 'ci_high_shown' } },
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
            { field: 'ci95_low', title: '95 % CI low', format: '.3g' },
            { field: 'ci95_high', title: '95 % CI high', format: '.3g' },
            { field: 'min', format: '.3g' },
            { field: 'max', format: '.3g' },
          ],
        },
      },
    ],
  };
}
