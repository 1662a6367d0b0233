import type { Factor } from '../factor.js';
import type { ResultView } from '../watch-status.js';

/**
 * J/token against the factor the suite varies: one point per recorded experiment (its cycles
 * side by side) and a rule from the lowest to the highest cycle (the spread), one colour per model.
 */
export function resultsChartSpec(factor: Factor, results: readonly ResultView[]): Record<string, unknown> {
  const values = results.filter((r) => r.energy_per_token_j !== null);
  const x = {
    field: 'factor',
    type: factor.type,
    title: factor.field.replace(/_/g, ' '),
    ...(factor.type === 'nominal' && { sort: 'ascending' }),
  };
  const color = { field: 'model', type: 'nominal', title: 'model' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Energy per token as recorded', subtitle: `against ${factor.field}; the rule spans the cycles` },
    width: 560,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 },
        encoding: {
          x,
          color,
          y: { aggregate: 'min', field: 'energy_per_token_j', type: 'quantitative' },
          y2: { aggregate: 'max', field: 'energy_per_token_j' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x,
          color,
          y: { field: 'energy_per_token_j', type: 'quantitative', title: 'J per generated token' },
          tooltip: [
            { field: 'experiment_id' },
            { field: 'config_name' },
            { field: 'cycle_id' },
            { field: 'energy_per_token_j', format: '.3g' },
          ],
        },
      },
    ],
  };
}
