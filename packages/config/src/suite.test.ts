import { describe, expect, it } from 'vitest';
import { configHash } from './config-hash.js';
import { expandSuite } from './expand.js';
import { parseSetOverrides } from './set-overrides.js';
import { parseSuite } from './suite-check.js';

const minimal = { name: 'study', models: ['org/a'] };
/** 1..n, printed short in test names. */
const range = (n: number) =>
  Object.assign(
    Array.from({ length: n }, (_, i) => i + 1),
    { toJSON: () => `1..${n}` },
  );

const expand = (input: Record<string, unknown>, options: Parameters<typeof expandSuite>[1] = {}) => {
  const parsed = parseSuite(input);
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  return expandSuite(parsed.config, options);
};

describe('parseSuite', () => {
  it('fills the suite defaults and normalizes models', () => {
    const r = parseSuite({
      name: 's',
      models: ['org/a', { model_name: '../m/tiny', batch_size: 2 }, { model_name: 'x/y', label: 'why' }],
    });
    expect(r.errors).toEqual([]);
    expect(r.config).toMatchObject({
      cycles: 1,
      shuffle: false,
      shuffle_seed: 0,
      reuse: 'none',
      include_base: false,
      base: {},
      controlled: {},
      grid: {},
      scenarios: {},
      models: [
        { label: 'org/a', model_name: 'org/a', overrides: {} },
        { label: 'tiny', model_name: '../m/tiny', overrides: { batch_size: 2 } },
        { label: 'why', model_name: 'x/y', overrides: {} },
      ],
    });
  });

  it.each([
    [{ name: 'a b' }, 'name: use letters, digits'],
    [{ cycles: 0 }, 'cycles: Too small'],
    [{ shuffle: 'yes' }, 'shuffle: Invalid input: expected boolean'],
    [{ models: [] }, 'models: Too small'],
    [{ models: [3] }, 'models[0]: expected a model name, or a mapping with model_name'],
    [{ models: [{ model_name: 'a/b', batch_size: 0 }] }, 'models[0].batch_size: Too small'],
    [{ models: [{ model_name: 'a/b', bacth_size: 2 }] }, 'models[0].bacth_size: unknown key'],
    [{ models: [{ model_name: 'a/b', label: 'a::b' }] }, 'models[0].label: no spaces and no "::"'],
    [{ models: ['org/a', 'org/a'] }, 'models[1]: "org/a" is already models[0]; vary a model\'s settings'],
    [
      {
        models: [
          { model_name: 'a/b', label: 'x' },
          { model_name: 'c/d', label: 'x' },
        ],
      },
      'models[1].label: label "x" is already used by models[0]',
    ],
    [{ base: { precision: 'fp8' } }, 'base.precision: Invalid option'],
    [{ base: { cycle_id: 2 } }, 'base.cycle_id: unknown key'],
    [{ base: { decoding: { mode: 'beam' } } }, 'base.decoding.mode: Invalid option'],
    [{ controlled: { batch_size: [1, 'two'] } }, 'controlled.batch_size[1]: Invalid input: expected number'],
    [{ controlled: { batch_sise: [1, 2] } }, 'controlled.batch_sise: unknown setting (did you mean "batch_size"?)'],
    [{ controlled: { model_name: ['a/b'] } }, 'controlled.model_name: set by the suite: list models under `models`'],
    [
      { controlled: { 'decoding.temp': [0.5] } },
      'controlled.decoding.temp: unknown setting (did you mean "decoding.top_p"?)',
    ],
    [{ controlled: { precision: [] } }, 'controlled.precision: needs at least one value'],
    [
      { controlled: { precision: 'fp16' } },
      'controlled.precision: expected a list of values, or a mapping of names to values',
    ],
    [{ controlled: { decoding: { 'bad name': { mode: 'greedy' } } } }, 'controlled.decoding.bad name: invalid name'],
    [
      { controlled: { processes: { two: 2 } } },
      'controlled.processes.two: expected a mapping of settings ("processes" is a factor',
    ],
    [{ controlled: { processes: { two: { num_procs: 2 } } } }, 'controlled.processes.two.num_procs: unknown key'],
    [
      { controlled: { decodng: { greedy: { mode: 'greedy' } } } },
      'controlled.decodng: not a setting, so read as a factor (did you mean "decoding"?)',
    ],
    [{ grid: { 'traffic.delay_max_ms': [-1] } }, 'grid.traffic.delay_max_ms[0]: Too small'],
    [{ grid: { 'x..y': [1] } }, 'grid.x..y: invalid name'],
    [{ scenarios: { chat: { batch_size: 0 } } }, 'scenarios.chat.batch_size: Too small'],
    [{ scenarios: { 'a/b': {} } }, 'scenarios.a/b: invalid name'],
    [
      { controlled: { precision: ['bf16'] }, scenarios: { 'precision-bf16': {} } },
      'scenarios.precision-bf16: config name "precision-bf16" is already used by controlled.precision[0]',
    ],
    [
      { controlled: { 'model.revision': ['a/b', 'a_b'] } },
      'controlled.model.revision[1]: config name "model.revision-a_b" is already used',
    ],
    [{ grid: { seed: range(1000), batch_size: range(101) } }, 'grid: 101000 configurations; at most 100000'],
    [{ extends: 'x.yaml' }, 'extends: unknown key'], // the loader consumes `extends`; plain data has none
  ])('rejects %j with a message naming the path', (patch: Record<string, unknown>, expected: string) => {
    const r = parseSuite({ ...minimal, ...patch });
    expect(r.config).toBeUndefined();
    expect(r.errors.filter((e) => e.startsWith(expected))).toHaveLength(1);
  });
});

describe('expandSuite', () => {
  const suite = {
    name: 'study',
    cycles: 2,
    models: ['org/a', { model_name: './local/b', gpu_ids: [0], precision: 'fp16' }],
    base: { batch_size: 8, max_output_tokens: 16 },
    include_base: true,
    controlled: {
      batch_size: [1, 4],
      decoding: { nucleus: { mode: 'sampling', top_p: 0.9 } },
      processes: { two: { num_processes: 2, gpu_ids: [0, 1] } },
    },
    scenarios: { chat: { batch_size: 1, traffic: { delay_min_ms: 10, delay_max_ms: 100 } } },
    grid: { precision: ['fp32', 'bf16'], 'decoding.mode': ['greedy'] },
  };

  it('makes every model × configuration × cycle, keyed model::suite::config::cycle', () => {
    const x = expand(suite);
    expect(x.errors).toEqual([]);
    const names = [
      'base',
      'batch_size-1',
      'batch_size-4',
      'decoding-nucleus',
      'processes-two',
      'chat',
      'precision-fp32__decoding.mode-greedy',
      'precision-bf16__decoding.mode-greedy',
    ];
    expect(x.experiments).toHaveLength(2 * 2 * names.length);
    expect(x.experiments.slice(0, names.length).map((e) => e.key)).toEqual(names.map((n) => `org/a::study::${n}::1`));
    expect(x.experiments.at(-1)!.key).toBe('./local/b::study::precision-bf16__decoding.mode-greedy::2');
    const e = x.experiments.find((e) => e.key === './local/b::study::batch_size-1::2')!;
    expect(e.experiment).toMatchObject({
      config_name: 'batch_size-1',
      model_name: './local/b',
      suite: 'study',
      cycle_id: 2,
      batch_size: 1,
      precision: 'fp16',
      gpu_ids: [0],
    });
    expect(e.variation).toEqual({ kind: 'controlled', name: 'batch_size-1', factors: { batch_size: 1 } });
    expect(x.experiments.find((e) => e.key === 'org/a::study::processes-two::1')!.variation.factors).toEqual({
      processes: 'two',
    });
    expect(x.experiments.find((e) => e.key === 'org/a::study::chat::1')!.experiment.traffic.delay_max_ms).toBe(100);
  });

  it('layers base ← model ← configuration: the studied factor wins over the model', () => {
    const x = expand(suite);
    const grid = x.experiments.find((e) => e.key === './local/b::study::precision-bf16__decoding.mode-greedy::1')!;
    expect(grid.experiment.precision).toBe('bf16'); // model b says fp16, the grid says bf16
    expect(grid.experiment.batch_size).toBe(8); // base
    expect(grid.experiment.max_output_tokens).toBe(16);
  });

  it('gives cycles of one configuration the same hash, and everything else a different one', () => {
    const x = expand(suite);
    const byKey = new Map(x.experiments.map((e) => [e.key, e]));
    expect(byKey.get('org/a::study::chat::1')!.hash).toBe(byKey.get('org/a::study::chat::2')!.hash);
    expect(new Set(x.experiments.map((e) => e.hash)).size).toBe(x.experiments.length / 2);
    for (const e of x.experiments) expect(e.hash).toBe(configHash(e.experiment));
  });

  it('reports invalid combinations with their reason and the model they break for', () => {
    const bad = { ...suite, controlled: { ...suite.controlled, num_processes: [2] } };
    const x = expand(bad);
    expect(x.experiments).toEqual([]);
    expect(x.invalid).toEqual([
      {
        key: './local/b::study::num_processes-2',
        model: 'b',
        config_name: 'num_processes-2',
        reasons: ['num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids'],
      },
    ]);
    expect(x.errors).toEqual([
      'num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids (./local/b::study::num_processes-2)',
    ]);
  });

  it('skipInvalid drops invalid combinations and lists them', () => {
    const bad = { ...suite, controlled: { ...suite.controlled, num_processes: [2] } };
    const x = expand(bad, { skipInvalid: true });
    expect(x.errors).toEqual([]);
    expect(x.invalid.map((i) => i.key)).toEqual(['./local/b::study::num_processes-2']);
    expect(x.experiments).toHaveLength(2 * (2 * 9 - 1));
    expect(x.experiments.some((e) => e.key.startsWith('./local/b::study::num_processes-2'))).toBe(false);
  });

  it('a bad --set value is an error, never a skippable combination', () => {
    const { overrides } = parseSetOverrides(['batch_size=0'], 'suite');
    const x = expand(suite, { skipInvalid: true, set: overrides });
    expect(x.errors).toEqual(['--set batch_size=0 batch_size: Too small: expected number to be >0']);
    expect(x.experiments).toEqual([]);
  });

  it('applies experiment-level --set overrides above every layer', () => {
    const { overrides, errors } = parseSetOverrides(['batch_size=3', 'cycles=1'], 'suite');
    expect(errors).toEqual([]);
    const x = expand(suite, { set: overrides });
    expect(new Set(x.experiments.map((e) => e.experiment.batch_size))).toEqual(new Set([3]));
  });

  it('shuffles each cycle in its own seeded order, the same every time', () => {
    const input = { ...suite, cycles: 3, shuffle: true, shuffle_seed: 11 };
    const keys = (x: ReturnType<typeof expand>, cycle: number) =>
      x.experiments.filter((e) => e.cycle === cycle).map((e) => e.key.replace(/::\d+$/, ''));
    const a = expand(input);
    const b = expand(input);
    expect(a.experiments.map((e) => e.key)).toEqual(b.experiments.map((e) => e.key));
    expect(keys(a, 1)).not.toEqual(keys(a, 2));
    expect([...keys(a, 1)].sort()).toEqual([...keys(a, 2)].sort());
    expect(keys(expand({ ...input, shuffle_seed: 12 }), 1)).not.toEqual(keys(a, 1));
    expect(a.experiments.map((e) => e.cycle)).toEqual([...a.experiments.map((e) => e.cycle)].sort());
  });

  it('runs the base alone when there is nothing else, named after base.config_name', () => {
    const x = expand({ name: 's', cycles: 3, models: ['org/a'], base: { config_name: 'ref', seed: 5 } });
    expect(x.experiments.map((e) => e.key)).toEqual(['org/a::s::ref::1', 'org/a::s::ref::2', 'org/a::s::ref::3']);
    expect(x.experiments[2]!.experiment).toMatchObject({ config_name: 'ref', seed: 5, cycle_id: 3 });
  });

  it('gives each experiment its own objects', () => {
    const x = expand({ name: 's', cycles: 2, models: ['org/a'] });
    x.experiments[0]!.experiment.decoding.mode = 'sampling';
    expect(x.experiments[1]!.experiment.decoding.mode).toBe('greedy');
  });

  it('warns when two configurations have the same settings', () => {
    const x = expand({
      name: 's',
      models: ['org/a'],
      base: { batch_size: 8 },
      include_base: true,
      controlled: { batch_size: [4, 8] },
    });
    expect(x.errors).toEqual([]);
    expect(x.warnings).toEqual([
      'controlled.batch_size[1]: same settings as "base"; both measure the same configuration',
    ]);
  });

  it('resolves relative paths against baseDir, so hashes match what runs', () => {
    const x = expand(
      { name: 's', models: ['./m'], base: { dataset: { source: 'file', path: 'p.csv' } } },
      { baseDir: '/srv/study' },
    );
    expect(x.experiments[0]!.experiment).toMatchObject({
      model_name: '/srv/study/m',
      dataset: { path: '/srv/study/p.csv' },
    });
    expect(x.experiments[0]!.key).toBe('/srv/study/m::s::base::1');
    expect(x.experiments[0]!.model).toBe('m');
  });
});
