import { describe, expect, it } from 'vitest';
import { ChartAggregates, MAX_CHART_GROUPS } from './chart-data.js';
import type { ParsedResult } from './result-row.js';

function row(model: string, config: string, perToken: number, factors: Array<string | number | null>): ParsedResult {
  return {
    id: `${model}${config}${perToken}`,
    suite: 's',
    model,
    config,
    cycle: 1,
    perToken,
    totalJ: 1,
    seconds: 1,
    factors,
  };
}

describe('ChartAggregates', () => {
  it('one group per model and configuration, against the factor that tells configurations apart', () => {
    const chart = new ChartAggregates();
    for (const [config, batch] of [
      ['b1', 1],
      ['b2', 2],
      ['b4', 4],
    ] as const)
      for (const p of [1, 2, 3]) chart.add(row('org/tiny', config, p * batch, [batch, 'fp32', 1, 32]));
    const data = chart.chart();
    expect(data.factor).toEqual({ field: 'batch_size', type: 'quantitative' });
    expect(data.groups.map((g) => [g.x, g.n, g.mean, g.min, g.max])).toEqual([
      [1, 3, 2, 1, 3],
      [2, 3, 4, 2, 6],
      [4, 3, 8, 4, 12],
    ]);
    chart.add(row('org/tiny', 'b1', 5, [1, 'fp16', 1, 32])); // precision now varies within b1
    expect(chart.chart().factor.field).toBe('batch_size');
    expect(chart.factorValue('b2', 'batch_size')).toBe(2);
  });

  it('past MAX_CHART_GROUPS, one group per model and value of the most varied factor; else the lowest J/token', () => {
    const chart = new ChartAggregates();
    for (let c = 0; c < 2 * MAX_CHART_GROUPS; c++)
      chart.add(row('org/m', `cfg-${c}`, c + 1, [2 ** (c % 4), ['fp32', 'fp16'][c % 2]!, 1, null]));
    const data = chart.chart();
    expect(data).toMatchObject({ factor: { field: 'batch_size' }, per: 'value', omitted: 0 });
    expect(data.groups.map((g) => [g.x, g.configs])).toEqual([
      [1, 150],
      [2, 150],
      [4, 150],
      [8, 150],
    ]);

    const plain = new ChartAggregates();
    for (let c = 0; c < MAX_CHART_GROUPS + 10; c++)
      plain.add(row('org/m', `cfg-${c}`, 1000 - c, [null, null, null, null]));
    const top = plain.chart();
    expect(top).toMatchObject({ factor: { field: 'config_name' }, per: 'configuration', omitted: 10 });
    expect(top.groups).toHaveLength(MAX_CHART_GROUPS);
    expect(Math.max(...top.groups.map((g) => g.mean))).toBe(1000 - 10);
  });
});
