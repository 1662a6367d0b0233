import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigFileError } from './errors.js';
import { loadConfigFile, loadExperimentFile, loadSuiteFile } from './load.js';
import { parseSetOverrides } from './set-overrides.js';
import { showConfig } from './show.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'joules-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Write files under the temp dir; returns the path of the first. */
function files(spec: Record<string, string>): string {
  for (const [name, text] of Object.entries(spec)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return path.join(dir, Object.keys(spec)[0]!);
}

describe('experiment files', () => {
  it('gives every problem its file and line, rules included', async () => {
    const file = files({
      'exp.yaml': [
        'config_name: x', // 1
        'model_name: org/m', // 2
        'batch_size: four', // 3
        'decoding:', // 4
        '  temperature: 0.5', // 5
        'traffic:', // 6
        '  delay_min_ms: 10', // 7
        '  delay_max_ms: 5', // 8
        'colour: red', // 9
      ].join('\n'),
    });
    const { result } = await loadExperimentFile(file);
    expect(result.errors).toEqual([
      `${file}:3 batch_size: Invalid input: expected number, received string`,
      `${file}:5 decoding.temperature: only valid when decoding.mode is "sampling" (mode is "greedy")`,
      `${file}:8 traffic.delay_max_ms: must be >= traffic.delay_min_ms (5 < 10)`,
      `${file}:9 colour: unknown key`,
    ]);
  });

  it('throws ConfigFileError only for a missing or unparsable file', async () => {
    await expect(loadConfigFile(path.join(dir, 'nope.yaml'))).rejects.toThrow(ConfigFileError);
    const bad = files({ 'bad.yaml': 'a: [1,\n' });
    await expect(loadConfigFile(bad)).rejects.toThrow(/bad\.yaml:\d/);
  });

  it('layers defaults ← extends ← the file ← --set, and says where each problem comes from', async () => {
    const file = files({
      'study/exp.yaml': 'extends: [../common/base.yaml, ./gpu.yaml]\nconfig_name: x\nbatch_size: 0\n',
      'common/base.yaml':
        'model_name: ../models/tiny\ndataset:\n  source: file\n  path: prompts.csv\ndecoding:\n  mode: sampling\n  top_k: 5\n',
      'study/gpu.yaml': 'gpu_ids: [0]\nenergy:\n  backend: nvml\n',
    });
    const bad = await loadExperimentFile(file, { set: ['num_processes=2'] });
    expect(bad.result.errors).toEqual([
      '--set num_processes=2 num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids',
      `${file}:3 batch_size: Too small: expected number to be >0`,
    ]);
    const ok = await loadExperimentFile(file, {
      set: ['batch_size=4', 'decoding.top_k=null', 'decoding.temperature=0.7'],
    });
    expect(ok.result.errors).toEqual([]);
    expect(ok.result.config).toMatchObject({
      batch_size: 4,
      gpu_ids: [0],
      model_name: '../models/tiny', // rebased from common/ onto study/
      dataset: { source: 'file', path: '../common/prompts.csv' },
      decoding: { mode: 'sampling', temperature: 0.7, top_k: null },
      energy: { backend: 'nvml', country_iso_code: 'USA' },
    });
    const resolved = await loadExperimentFile(file, { set: ['batch_size=4'], resolvePaths: true });
    expect(resolved.result.config).toMatchObject({
      model_name: path.join(dir, 'models/tiny'),
      dataset: { path: path.join(dir, 'common/prompts.csv') },
    });
  });

  it('points a problem in a parent at the parent file', async () => {
    const file = files({
      'child.yaml': 'extends: parent.yaml\nconfig_name: c\n',
      'parent.yaml': 'model_name: org/m\n\nprecision: fp9\n',
    });
    const { result } = await loadExperimentFile(file);
    expect(result.errors).toEqual([
      `${path.join(dir, 'parent.yaml')}:3 precision: Invalid option: expected one of "fp32"|"fp16"|"bf16"`,
    ]);
  });

  it('reports extends cycles and missing parents at the extends line', async () => {
    const file = files({
      'a.yaml': 'config_name: a\nmodel_name: org/m\nextends:\n  - b.yaml\n  - missing.yaml\n',
      'b.yaml': 'extends: a.yaml\n',
    });
    const { result } = await loadExperimentFile(file);
    expect(result.errors).toEqual([
      `${file}:5 extends: ${path.join(dir, 'missing.yaml')}: file not found`,
      `${path.join(dir, 'b.yaml')}:1 extends: cycle a.yaml → b.yaml → a.yaml`,
    ]);
  });

  it('reports bad --set paths by name, with a hint', async () => {
    const file = files({ 'e.yaml': 'config_name: a\nmodel_name: org/m\n' });
    const { result } = await loadExperimentFile(file, {
      set: ['batch_sise=4', 'novalue', 'decoding.mode.x=1', 'seed=[1,'],
    });
    expect(result.errors).toEqual([
      '--set batch_sise=4: unknown setting "batch_sise" (did you mean "batch_size"?)',
      '--set novalue: expected path=value, e.g. batch_size=4',
      '--set decoding.mode.x=1: unknown setting "decoding.mode.x" (did you mean "decoding.mode"?)',
      expect.stringMatching(/^--set seed=\[1,: the value is not valid YAML/),
    ]);
  });

  it('rebases --set paths given from the cwd onto the file', async () => {
    const file = files({ 'sub/e.yaml': 'config_name: a\nmodel_name: org/m\n' });
    const { result } = await loadExperimentFile(file, { set: ['model_name=./models/x'], cwd: dir });
    expect(result.config?.model_name).toBe('../models/x');
  });

  it('refuses a suite where an experiment is expected, and the reverse', async () => {
    const suite = files({ 's.yaml': 'name: s\nmodels: [org/m]\n' });
    expect((await loadExperimentFile(suite)).result.errors).toEqual([
      `${suite}: is a suite (it has models), not a single experiment`,
    ]);
    const exp = files({ 'e.yaml': 'config_name: a\nmodel_name: org/m\n' });
    expect((await loadSuiteFile(exp)).result.errors).toEqual([
      `${exp}: is a single experiment, not a suite (a suite has models)`,
    ]);
  });
});

describe('suite files', () => {
  const suiteText = [
    'name: s', // 1
    'cycles: 2', // 2
    'models:', // 3
    '  - ./models/a', // 4
    '  - model_name: org/b', // 5
    '    gpu_ids: [0]', // 6
    'base:', // 7
    '  batch_size: 4', // 8
    'controlled:', // 9
    '  num_processes: [1, 2]', // 10
    '  precision: [bf16]', // 11
  ].join('\n');

  it('expands, and locates an invalid combination at the value that causes it', async () => {
    const file = files({ 's.yaml': suiteText });
    const r = await loadSuiteFile(file);
    expect(r.result.errors).toEqual([
      `${file}:10 num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids (org/b::s::num_processes-2)`,
    ]);
    const skipped = await loadSuiteFile(file, { skipInvalid: true });
    expect(skipped.result.errors).toEqual([]);
    expect(skipped.invalid.map((i) => i.key)).toEqual(['org/b::s::num_processes-2']);
    expect(skipped.experiments.map((e) => e.key)).toEqual([
      './models/a::s::num_processes-1::1',
      './models/a::s::num_processes-2::1',
      './models/a::s::precision-bf16::1',
      'org/b::s::num_processes-1::1',
      'org/b::s::precision-bf16::1',
      './models/a::s::num_processes-1::2',
      './models/a::s::num_processes-2::2',
      './models/a::s::precision-bf16::2',
      'org/b::s::num_processes-1::2',
      'org/b::s::precision-bf16::2',
    ]);
  });

  it('applies suite-level and experiment-level --set overrides', async () => {
    const file = files({ 's.yaml': suiteText });
    const r = await loadSuiteFile(file, {
      set: ['cycles=1', 'models=[./models/a]', 'base.batch_size=2', 'max_output_tokens=7'],
    });
    expect(r.result.errors).toEqual([]);
    expect(r.experiments.map((e) => [e.key, e.experiment.batch_size, e.experiment.max_output_tokens])).toEqual([
      ['./models/a::s::num_processes-1::1', 2, 7],
      ['./models/a::s::num_processes-2::1', 2, 7],
      ['./models/a::s::precision-bf16::1', 2, 7],
    ]);
    const bad = await loadSuiteFile(file, {
      set: ['controlled.precision=[fp16]', 'model_name=x', 'base.batch_sise=1'],
    });
    expect(bad.result.errors).toEqual([
      '--set controlled.precision=[fp16]: "controlled" can only be replaced as a whole (--set controlled=<YAML value>)',
      '--set model_name=x: "model_name" is set by the suite for every experiment (use --set models=[...])',
      '--set base.batch_sise=1: unknown setting "base.batch_sise" (did you mean "base.batch_size"?)',
    ]);
  });

  it('locates suite problems in the file, and a --set problem at the --set', async () => {
    const file = files({ 's.yaml': suiteText.replace('[bf16]', '[bf17]') });
    const r = await loadSuiteFile(file, { set: ['cycles=0'] });
    expect(r.result.errors).toEqual([
      '--set cycles=0 cycles: Too small: expected number to be >0',
      `${file}:11 controlled.precision[0]: Invalid option: expected one of "fp32"|"fp16"|"bf16"`,
    ]);
  });

  it('extends suites and experiment files (which feed base), rebasing their paths', async () => {
    const file = files({
      'study/s.yaml': 'extends: [../shared/common-suite.yaml, ../shared/base-exp.yaml]\nname: s\nbase:\n  seed: 3\n',
      'shared/common-suite.yaml': 'cycles: 3\nmodels: [./tiny]\ncontrolled:\n  batch_size: [1]\n',
      'shared/base-exp.yaml': 'dataset:\n  source: file\n  path: p.jsonl\nseed: 1\nbatch_size: 2\n',
    });
    const r = await loadSuiteFile(file);
    expect(r.result.errors).toEqual([]);
    expect(r.experiments).toHaveLength(3);
    expect(r.experiments[0]!.key).toBe('../shared/tiny::s::batch_size-1::1');
    expect(r.experiments[0]!.experiment).toMatchObject({
      model_name: '../shared/tiny',
      seed: 3,
      batch_size: 1,
      dataset: { path: '../shared/p.jsonl' },
    });
  });

  it('points a bad value in an extended experiment file at that file', async () => {
    const file = files({ 's.yaml': 'extends: e.yaml\nname: s\nmodels: [org/m]\n', 'e.yaml': 'seed: -1\n' });
    const r = await loadSuiteFile(file);
    expect(r.result.errors).toEqual([`${path.join(dir, 'e.yaml')}:1 base.seed: Too small: expected number to be >=0`]);
  });

  it('showConfig returns every effective value as plain data, paths resolved', async () => {
    const file = files({ 's.yaml': suiteText });
    const shown = await showConfig(file, { skipInvalid: true, set: ['cycles=1'] });
    expect(shown.kind).toBe('suite');
    if (shown.kind !== 'suite') return;
    expect(shown.errors).toEqual([]);
    expect(shown.invalid).toEqual([
      {
        key: 'org/b::s::num_processes-2',
        reasons: [`${file}:10 num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids`],
      },
    ]);
    expect(shown.suite).toMatchObject({
      name: 's',
      cycles: 1,
      models: [
        { label: 'a', model_name: './models/a' },
        { label: 'org/b', model_name: 'org/b', gpu_ids: [0] },
      ],
    });
    expect(shown.experiments[0]).toMatchObject({
      key: `${path.join(dir, 'models/a')}::s::num_processes-1::1`,
      experiment: { model_name: path.join(dir, 'models/a'), cycle_id: 1 },
    });
    expect(JSON.parse(JSON.stringify(shown))).toEqual(shown);
    const exp = await showConfig(files({ 'e.yaml': 'config_name: a\nmodel_name: ./m\n' }));
    expect(exp).toMatchObject({
      kind: 'experiment',
      errors: [],
      experiment: { model_name: path.join(dir, 'm'), retry: { max_retries: 3 } },
    });
  });
});

describe('parseSetOverrides', () => {
  it('parses values as YAML and names the target', () => {
    expect(
      parseSetOverrides([
        'batch_size=4',
        'precision=fp16',
        'save_outputs=true',
        'dataset.column=',
        'gpu_ids=[0, 1]',
        'decoding={mode: sampling}',
      ]),
    ).toEqual({
      errors: [],
      overrides: [
        { path: ['batch_size'], value: 4, target: 'experiment', text: 'batch_size=4' },
        { path: ['precision'], value: 'fp16', target: 'experiment', text: 'precision=fp16' },
        { path: ['save_outputs'], value: true, target: 'experiment', text: 'save_outputs=true' },
        { path: ['dataset', 'column'], value: null, target: 'experiment', text: 'dataset.column=' },
        { path: ['gpu_ids'], value: [0, 1], target: 'experiment', text: 'gpu_ids=[0, 1]' },
        { path: ['decoding'], value: { mode: 'sampling' }, target: 'experiment', text: 'decoding={mode: sampling}' },
      ],
    });
    expect(
      parseSetOverrides(['cycles=2', 'base.model.quantization=int8', 'seed=1'], 'suite').overrides.map((o) => o.target),
    ).toEqual(['suite', 'suite', 'experiment']);
    expect(parseSetOverrides(['=1', 'a b=1']).errors).toEqual([
      '--set =1: expected path=value, e.g. batch_size=4',
      '--set a b=1: "a b" is not a setting path (keys joined by ".")',
    ]);
  });
});
