import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandSuite } from './expand.js';
import { loadSuiteFile } from './load.js';
import { rangeValues } from './search-check.js';
import { derivePoint } from './search-points.js';
import { parseSuite } from './suite-check.js';

// A stand-in for @joules/metrics' resultColumnType (config does not depend on metrics: it is injected).
const columnType = (c: string) =>
  ({ energy_per_token_j: 'number', latency_p90_s: 'number', precision: 'text' })[c] as 'number' | 'text' | undefined;

const base = { name: 's', models: ['org/a'] };
const search = (s: Record<string, unknown>) => ({ ...base, search: { objective: 'energy_per_token_j', ...s } });

describe('search: schema and normalization', () => {
  it('normalizes constraints and ranges, and expands the points of its axes as a grid', () => {
    const r = parseSuite(
      search({
        constraints: ['latency_p90_s <= 0.5', { column: 'latency_p90_s', op: '>=', value: 0 }, 'latency_p90_s ≤ 1e1'],
        axes: { batch_size: { from: 1, to: 16, steps: 5, scale: 'log' }, precision: ['fp32', 'bf16'] },
        bisect: 'batch_size',
        seed: 3,
      }),
      columnType,
    );
    expect(r.errors).toEqual([]);
    expect(r.config!.search).toEqual({
      objective: 'energy_per_token_j',
      constraints: [
        { column: 'latency_p90_s', op: '<=', value: 0.5 },
        { column: 'latency_p90_s', op: '>=', value: 0 },
        { column: 'latency_p90_s', op: '<=', value: 10 },
      ],
      axes: { batch_size: [1, 2, 4, 8, 16], precision: ['fp32', 'bf16'] },
      bisect: 'batch_size',
      strategy: 'bisect',
      seed: 3,
      saturation: { rates: 5, concurrency: 64, pattern: 'constant' },
    });
    const names = expandSuite(r.config!).experiments.map((e) => e.config_name);
    expect(names).toHaveLength(10);
    expect(names[0]).toBe('batch_size-1__precision-fp32');
    expect(names).toContain('batch_size-16__precision-bf16');
  });

  it('ranges: linear steps, step, log; integers stay integers; bad ranges say why', () => {
    expect(rangeValues({ from: 0.5, to: 2, steps: 4 })).toEqual([0.5, 1, 1.5, 2]);
    expect(rangeValues({ from: 2, to: 10, step: 4 })).toEqual([2, 6, 10]);
    expect(rangeValues({ from: 1, to: 4, steps: 6, scale: 'log' })).toEqual([1, 2, 3, 4]);
    expect(rangeValues({ from: 1, to: 2, steps: 2, step: 1 })).toBe('give exactly one of steps or step');
    expect(rangeValues({ from: 0, to: 2, steps: 3, scale: 'log' })).toBe('a log range needs from and to above 0');
    expect(rangeValues({ from: 3, to: 2, steps: 3 })).toBe('to must not be below from');
  });

  it('field-named errors: columns, the bisected axis, sections a search replaces, saturation keys, bad values', () => {
    const r = parseSuite(
      {
        ...search({
          objective: 'precision',
          constraints: ['ttft <= 1', 'latency_p90_s < 1'],
          axes: { precision: ['fp32', 'fp64'], 'load.rate': [1, 2] },
          bisect: 'precision',
        }),
        grid: { batch_size: [1] },
      },
      columnType,
    );
    expect(r.errors).toEqual([
      'search.constraints[1]: expected "<column> <= <number>" or "<column> >= <number>"',
      'search.axes.precision[1]: Invalid option: expected one of "fp32"|"fp16"|"bf16"',
    ]);
    const s = parseSuite(
      {
        ...search({ objective: 'precision', constraints: ['ttft <= 1'], axes: { x: [1] }, bisect: 'y' }),
        grid: { batch_size: [1] },
      },
      columnType,
    );
    expect(s.errors).toEqual([
      'search.axes.x: unknown setting (did you mean "gpu"?); a factor (not a setting) needs named mappings of settings',
      'grid: a search suite takes its points from search.axes; move grid there',
      'search.objective: "precision" is a text column; expected a numeric one',
      'search.constraints[0]: "ttft" is not a results column',
      'search.bisect: "y" is not one of search.axes',
    ]);
    expect(parseSuite(search({ axes: { precision: ['fp32'] } })).errors).toEqual([
      'search.bisect: strategy bisect needs the axis to bisect (e.g. load.rate or batch_size); or use strategy: grid',
    ]);
    expect(parseSuite(search({ axes: { precision: ['fp32', 'bf16'] }, bisect: 'precision' })).errors).toEqual([
      'search.axes.precision: the bisected axis needs numeric values (a list or a range)',
    ]);
    expect(parseSuite(search({ strategy: 'saturation', axes: { 'load.rate': [1] } })).errors).toEqual([
      'search.axes.load.rate: set by the saturation sweep (its probes and rates)',
    ]);
    expect(parseSuite(search({ strategy: 'grid', axes: { batch_size: { from: 1, to: 2 } } })).errors).toEqual([
      'search.axes.batch_size: give exactly one of steps or step',
    ]);
  });

  it('errors carry file:line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'joules-search-'));
    try {
      const file = path.join(dir, 's.yaml');
      writeFileSync(
        file,
        'name: s\nmodels: [org/a]\nsearch:\n  objective: energy_per_tokn_j\n  axes:\n    batch_size: [1, 2]\n  bisect: batch\n',
      );
      const r = await loadSuiteFile(file, { columnType });
      expect(r.result.errors).toEqual([
        `${file}:4 search.objective: "energy_per_tokn_j" is not a results column`,
        `${file}:7 search.bisect: "batch" is not one of search.axes`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('search: saturation probes and derived points', () => {
  const sweep = {
    ...base,
    base: { engine: 'server', server: { url: 'http://127.0.0.1:8000' }, load: { num_requests: 8 } },
    search: { objective: 'energy_per_token_j', strategy: 'saturation', saturation: { concurrency: 16 }, axes: {} },
  };

  it('lists the synchronous and the throughput probe (closed loop at 1 and at `concurrency`)', () => {
    const parsed = parseSuite(sweep);
    expect(parsed.errors).toEqual([]);
    const ex = expandSuite(parsed.config!);
    expect(ex.errors).toEqual([]);
    expect(
      ex.experiments.map((e) => [e.config_name, e.experiment.load.pattern, e.experiment.load.concurrency]),
    ).toEqual([
      ['sync', 'closed_loop', 1],
      ['throughput', 'closed_loop', 16],
    ]);
  });

  it('derives a rate point from a probe: validated, keyed, hashed like any experiment', () => {
    const probe = expandSuite(parseSuite(sweep).config!).experiments[0]!;
    const load = { pattern: 'constant', rate: 2.5, concurrency: null };
    const { point, errors } = derivePoint(probe, 'rate-2.5', { load }, { 'load.rate': 2.5 });
    expect(errors).toEqual([]);
    expect(point).toMatchObject({ key: 'org/a::s::rate-2.5::1', config_name: 'rate-2.5', cycle: 1 });
    expect(point!.experiment.load).toMatchObject(load);
    expect(point!.hash).not.toBe(probe.hash);
    expect(derivePoint(probe, 'bad', { load: { pattern: 'constant', rate: -1 } }, {}).errors[0]).toMatch(
      /^load\.rate: /,
    );
  });
});

describe('search: --set', () => {
  it('sets a key of the search block (search.strategy=grid), not an unknown one', async () => {
    const { parseSetOverrides } = await import('./set-overrides.js');
    expect(parseSetOverrides(['search.strategy=grid', 'search.bisect=null'], 'suite').errors).toEqual([]);
    expect(parseSetOverrides(['search.strategie=grid'], 'suite').errors[0]).toMatch(/can only be replaced as a whole/);
  });
});
