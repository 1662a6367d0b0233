import { describeSample, studentTQuantile } from '@joules/metrics';
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
    serving: null,
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

  it("each group's 95 % interval is Student t over its rows (per configuration, and pooled per value)", () => {
    // Reference: the textbook formula with the t quantile computed afresh, and describeSample over the raw rows.
    const reference = (xs: number[]) => {
      const n = xs.length;
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
      const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
      return [mean - half, mean + half];
    };
    const rows: Record<string, number[]> = { b1: [0.51, 0.49, 0.53, 0.5, 0.47], b2: [0.3, 0.34], b4: [0.2] };
    const chart = new ChartAggregates();
    for (const [config, values] of Object.entries(rows))
      for (const v of values) chart.add(row('org/tiny', config, v, [Number(config.slice(1)), 'fp32', 1, 32]));
    const groups = new Map(chart.chart().groups.map((g) => [g.x, g]));
    for (const [config, values] of Object.entries(rows)) {
      const g = groups.get(Number(config.slice(1)))!;
      const ref = describeSample(values);
      expect(g.n).toBe(values.length);
      expect(g.mean).toBeCloseTo(ref.mean!, 12);
      if (values.length < 2) expect([g.ci95_low, g.ci95_high]).toEqual([null, null]);
      else {
        const [low, high] = reference(values);
        expect(Math.abs(g.ci95_low! / low! - 1)).toBeLessThan(1e-5);
        expect(Math.abs(g.ci95_high! / high! - 1)).toBeLessThan(1e-5);
        expect(Math.abs(g.ci95_low! / ref.ci95_low! - 1)).toBeLessThan(1e-5);
      }
    }
    // 5 cycles: t_{0.975,4} = 2.7764 (tables), not the normal 1.96.
    const b1 = groups.get(1)!;
    const sd = describeSample(rows.b1!).std!;
    expect((b1.ci95_high! - b1.mean) / (sd / Math.sqrt(5))).toBeCloseTo(2.7764, 3);

    // Past MAX_CHART_GROUPS, per value: the interval over every row of every configuration of that value.
    const many = new ChartAggregates();
    const byValue = new Map<number, number[]>();
    for (let c = 0; c < 2 * MAX_CHART_GROUPS; c++)
      for (const cycle of [1, 2, 3]) {
        const batch = 2 ** (c % 4);
        const v = 1 / batch + 0.01 * ((c * 7 + cycle * 3) % 11);
        many.add(row('org/m', `cfg-${c}`, v, [batch, 'fp32', 1, null]));
        byValue.set(batch, [...(byValue.get(batch) ?? []), v]);
      }
    const pooled = many.chart();
    expect(pooled.per).toBe('value');
    for (const g of pooled.groups) {
      const ref = describeSample(byValue.get(g.x as number)!);
      expect(g.n).toBe(ref.n);
      expect(Math.abs(g.ci95_low! / ref.ci95_low! - 1)).toBeLessThan(1e-5);
      expect(Math.abs(g.ci95_high! / ref.ci95_high! - 1)).toBeLessThan(1e-5);
    }
  });
});
