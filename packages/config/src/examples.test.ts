import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { detectConfigKind } from './extends.js';
import { configJsonSchema } from './json-schema.js';
import { loadConfigFile } from './load.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const files = readdirSync(examples)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

/** The schema file each kind of example names in its editor header (written by `npm run contract`). */
const SCHEMA_FILES = { experiment: 'experiment-input.schema.json', suite: 'suite.schema.json' } as const;

describe('examples/*.yaml', () => {
  it('has the demo, a demo suite, a controlled suite, a grid suite and the vLLM demo', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'demo.yaml',
        'demo-suite.yaml',
        'controlled-suite.yaml',
        'grid-suite.yaml',
        'vllm-demo.yaml',
      ]),
    );
  });

  it.each(files)('%s validates with joules validate semantics (no errors, every experiment expanded)', async (name) => {
    const loaded = await loadConfigFile(path.join(examples, name));
    expect(loaded.result.errors).toEqual([]);
    expect(loaded.result.warnings).toEqual([]);
    if (loaded.kind === 'suite') {
      expect(loaded.invalid).toEqual([]);
      expect(loaded.experiments.length).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s starts with the yaml-language-server header naming its schema', (name) => {
    const text = readFileSync(path.join(examples, name), 'utf8');
    const kind = detectConfigKind(parseYaml(text));
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=../contract/${SCHEMA_FILES[kind]}`);
  });

  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validators = {
    suite: ajv.compile(configJsonSchema('suite')),
    experiment: ajv.compile(configJsonSchema('experiment')),
  };

  it.each(files)('%s validates against the exported JSON Schema with an independent validator (ajv)', (name) => {
    const data: unknown = parseYaml(readFileSync(path.join(examples, name), 'utf8'));
    const validate = validators[detectConfigKind(data)];
    expect(validate(data) ? [] : validate.errors).toEqual([]);
  });

  it('the editor schemas reject what the library rejects (they are not vacuous)', () => {
    const { suite, experiment } = validators;
    expect(suite({ name: 's', models: ['a/b'], base: { batch_size: 0 } })).toBe(false);
    expect(suite({ name: 's', models: ['a/b'], scenarios: { chat: { precison: 'fp16' } } })).toBe(false);
    expect(suite({ name: 's', models: [{ model_name: 'a/b', label: 'x::y' }] })).toBe(false);
    expect(suite({ name: 's', models: ['a/b'], extends: ['base.yaml'], controlled: { batch_size: [1] } })).toBe(true);
    expect(experiment({ config_name: 'x', model_name: 'a/b', energy: { backend: 'joulemeter' } })).toBe(false);
    expect(experiment({ config_name: 'x', model_name: 'a/b', warmup_iterations: 'auto', extends: 'p.yaml' })).toBe(
      true,
    );
  });

  // The schema files are written by `npm run contract` (tools/export-contract.mjs); a missing or stale one fails.
  for (const [kind, file] of Object.entries(SCHEMA_FILES) as [keyof typeof SCHEMA_FILES, string][]) {
    const target = fileURLToPath(new URL(`../../../contract/${file}`, import.meta.url));
    it(`contract/${file} is the current ${kind} editor schema`, () => {
      expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual(configJsonSchema(kind));
    });
  }
});
