import { describe, expect, it } from 'vitest';
import { MetricsError } from './errors.js';
import type { CellValue } from './result-record.js';
import { cycleStatistics, groupStatistics } from './summaries.js';
import { summarizeResults, summaryTable } from './summary-table.js';

const rec = (
  config_hash: string,
  model_name: string,
  cycle_id: number | null,
  energy_total_j: number | null,
  tokens_per_j: number | null,
): Record<string, CellValue> => ({
  config_hash,
  config_name: `cfg-${config_hash}`,
  model_name,
  cycle_id,
  energy_total_j,
  tokens_per_j,
});

// Config "a": 3 cycles (36, 40, 38 J); config "b": 2 cycles (10, 14 J), same model; config "c": another model.
const records = [
  rec('a', 'm1', 1, 36, 3),
  rec('b', 'm1', 1, 10, 5),
  rec('a', 'm1', 2, 40, 3),
  rec('c', 'm2', 1, 7, null),
  rec('a', 'm1', 3, 38, 3),
  rec('b', 'm1', 2, 14, 7),
];
const metrics = ['energy_total_j', 'tokens_per_j'];

describe('cycle statistics', () => {
  const stats = cycleStatistics(records, { metrics });

  it('groups by config hash, sorted, with names and cycle ids', () => {
    expect(stats.map((s) => [s.config_hash, s.config_name, s.model_name, s.n, s.cycle_ids])).toEqual([
      ['a', 'cfg-a', 'm1', 3, [1, 2, 3]],
      ['b', 'cfg-b', 'm1', 2, [1, 2]],
      ['c', 'cfg-c', 'm2', 1, [1]],
    ]);
  });

  it('describes each metric per config (hand-computed)', () => {
    const [a, b, c] = stats;
    expect(a!.metrics.energy_total_j).toMatchObject({ n: 3, mean: 38, std: 2 });
    expect(a!.metrics.energy_total_j!.ci95_half_width).toBeCloseTo(4.968275, 6);
    expect(a!.metrics.tokens_per_j).toMatchObject({ n: 3, mean: 3, std: 0, cv: 0 });
    expect(b!.metrics.energy_total_j).toMatchObject({ n: 2, mean: 12 });
    expect(b!.metrics.energy_total_j!.std).toBeCloseTo(2 * Math.SQRT2, 12); // √((4 + 4) / 1)
    expect(b!.metrics.energy_total_j!.ci95_half_width).toBeCloseTo(12.706204736 * 2, 7); // t·std/√2 = t·2
    expect(c!.metrics.tokens_per_j).toMatchObject({ n: 0, mean: null });
  });

  it('never mixes configurations: a cycle that ran with a halved batch after an OOM is its own group', () => {
    // Config "a" planned at batch 8: cycles 1 and 3 ran as planned, cycle 2 ran at batch 4 after an OOM
    // (same planned hash, so resume keeps its key; another effective hash). Config "b" is planned at
    // batch 4 and is the same effective configuration as a's halved cycle. A row from before the
    // column existed (no effective hash) counts as its planned hash.
    const ran = (config_hash: string, effective: string | null, cycle_id: number, energy_total_j: number) => ({
      ...rec(config_hash, 'm1', cycle_id, energy_total_j, 1),
      effective_config_hash: effective,
    });
    const rows = [ran('a', 'a', 1, 36), ran('a', 'a4', 2, 20), ran('a', null, 3, 40), ran('b', 'a4', 1, 22)];
    const groups = cycleStatistics(rows, { metrics });
    expect(
      groups.map((g) => [g.effective_config_hash, g.config_hashes, g.n, g.cycle_ids, g.metrics.energy_total_j!.mean]),
    ).toEqual([
      ['a', ['a'], 2, [1, 3], 38],
      ['a4', ['a', 'b'], 2, [1, 2], 21],
    ]);
    expect(groups[0]!.config_hash).toBe('a');
    expect(groups.map((g) => g.key)).toEqual([{ effective_config_hash: 'a' }, { effective_config_hash: 'a4' }]);
  });

  it('refuses records without a config hash, or with unparsed (string) values', () => {
    expect(() => cycleStatistics([{ energy_total_j: 1 }])).toThrow(/record 0: config_hash is missing/);
    expect(() =>
      cycleStatistics([rec('a', 'm', 1, 1, 1), { config_hash: 'a', energy_total_j: '1' }], { metrics }),
    ).toThrow(MetricsError);
    expect(() => cycleStatistics([{ config_hash: 'a', energy_total_j: '1' }], { metrics })).toThrow(
      /record 0: column energy_total_j is string "1".*parseResultRecord/,
    );
  });
});

describe('summaries across experiments', () => {
  it('group by model: mean of all its cycles', () => {
    const groups = groupStatistics(records, { by: ['model_name'], metrics });
    expect(groups.map((g) => [g.key.model_name, g.n, g.metrics.energy_total_j!.mean])).toEqual([
      ['m1', 5, (36 + 40 + 38 + 10 + 14) / 5],
      ['m2', 1, 7],
    ]);
  });

  it('a flat table: group columns, n, then <metric>_<stat>', () => {
    const table = summarizeResults(records, { by: ['model_name', 'config_name'], metrics, stats: ['mean', 'n'] });
    expect(table.columns).toEqual([
      'model_name',
      'config_name',
      'n',
      'energy_total_j_mean',
      'energy_total_j_n',
      'tokens_per_j_mean',
      'tokens_per_j_n',
    ]);
    expect(table.rows).toEqual([
      {
        model_name: 'm1',
        config_name: 'cfg-a',
        n: 3,
        energy_total_j_mean: 38,
        energy_total_j_n: 3,
        tokens_per_j_mean: 3,
        tokens_per_j_n: 3,
      },
      {
        model_name: 'm1',
        config_name: 'cfg-b',
        n: 2,
        energy_total_j_mean: 12,
        energy_total_j_n: 2,
        tokens_per_j_mean: 6,
        tokens_per_j_n: 2,
      },
      {
        model_name: 'm2',
        config_name: 'cfg-c',
        n: 1,
        energy_total_j_mean: 7,
        energy_total_j_n: 1,
        tokens_per_j_mean: null,
        tokens_per_j_n: 0,
      },
    ]);
  });

  it('default stats are mean, std, cv and the 95 % CI; an empty input still has its columns', () => {
    const table = summarizeResults([], { by: ['model_name'], metrics: ['energy_total_j'] });
    expect(table).toEqual({
      columns: [
        'model_name',
        'n',
        'energy_total_j_mean',
        'energy_total_j_std',
        'energy_total_j_cv',
        'energy_total_j_ci95_low',
        'energy_total_j_ci95_high',
      ],
      rows: [],
    });
    expect(summaryTable(cycleStatistics(records, { metrics })).columns.slice(0, 3)).toEqual([
      'effective_config_hash',
      'n',
      'energy_total_j_mean',
    ]);
  });

  it('null group values form their own group, sorted first', () => {
    const groups = groupStatistics([{ suite: 's', x: 1 }, { suite: null, x: 2 }, { x: 3 }], {
      by: ['suite'],
      metrics: ['x'],
    });
    expect(groups.map((g) => [g.key.suite, g.metrics.x!.mean])).toEqual([
      [null, 2.5],
      ['s', 1],
    ]);
  });
});
