import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './config-hash.js';
import { expandSuite } from './expand.js';
import { parseExperiment } from './parse.js';
import { parseSuite } from './suite-check.js';

// Suites drawn at random, with axes that can break rules for some models only (processes vs GPUs),
// for every model (sampling parameters with greedy decoding) or per grid cell (delay bounds).
// An independent model of the layering says which combinations must be invalid.

const uniq = <T>(arb: fc.Arbitrary<T>, max = 3) => fc.uniqueArray(arb, { minLength: 1, maxLength: max });
const controlledArb = fc.record(
  {
    batch_size: uniq(fc.integer({ min: 1, max: 64 })),
    precision: uniq(fc.constantFrom('fp32', 'bf16')),
    'decoding.temperature': uniq(fc.constantFrom(0.5, 0.7, 1, 1.3)),
    num_processes: uniq(fc.integer({ min: 1, max: 4 })),
  },
  { requiredKeys: [] },
);
const gridArb = fc.record(
  {
    seed: uniq(fc.integer({ min: 0, max: 9 })),
    'traffic.delay_min_ms': uniq(fc.constantFrom(0, 10, 50)),
    max_input_tokens: uniq(fc.constantFrom(64, 128)),
  },
  { requiredKeys: [] },
);
const scenarioArb = fc.record(
  { batch_size: fc.integer({ min: 1, max: 8 }), num_processes: fc.integer({ min: 1, max: 3 }) },
  { requiredKeys: [] },
);
const suiteArb = fc.record({
  cycles: fc.integer({ min: 1, max: 4 }),
  gpus: fc.array(fc.constantFrom(0, 1, 2), { minLength: 1, maxLength: 4 }), // GPUs per model (0 = CPU)
  mode: fc.constantFrom('greedy', 'sampling'),
  include_base: fc.boolean(),
  controlled: controlledArb,
  grid: gridArb,
  scenarios: fc.array(scenarioArb, { maxLength: 3 }),
  shuffle: fc.boolean(),
});

type Drawn = typeof suiteArb extends fc.Arbitrary<infer T> ? T : never;
interface Expected {
  name: string;
  settings: Record<string, unknown>;
}

/** The configurations the suite must have, and their settings, computed without the library. */
function expectedConfigurations(d: Drawn): Expected[] {
  const out: Expected[] = [];
  for (const [key, values] of Object.entries(d.controlled))
    for (const v of values) out.push({ name: `${key}-${v}`, settings: { [key]: v } });
  d.scenarios.forEach((s, i) => {
    out.push({ name: `sc${i}`, settings: s });
  });
  let cells: Expected[] = [{ name: '', settings: {} }];
  const axes = Object.entries(d.grid);
  for (const [key, values] of axes) {
    cells = cells.flatMap((c) =>
      values.map((v) => ({
        name: c.name ? `${c.name}__${key}-${v}` : `${key}-${v}`,
        settings: { ...c.settings, [key]: v },
      })),
    );
  }
  if (axes.length) out.push(...cells);
  if (d.include_base || out.length === 0) out.unshift({ name: 'base', settings: {} });
  return out;
}

/** Whether a model with `gpus` GPUs and these settings breaks a rule. */
function mustBeInvalid(d: Drawn, gpus: number, s: Record<string, unknown>): boolean {
  const processes = (s.num_processes as number | undefined) ?? 1;
  return (
    (d.mode === 'greedy' && s['decoding.temperature'] !== undefined) ||
    (gpus > 0 && processes > gpus) ||
    ((s['traffic.delay_min_ms'] as number | undefined) ?? 0) > 20
  );
}

describe('expandSuite (property)', () => {
  it('count = cycles × (models × configurations − invalid); keys unique, from the experiment; hash equal ⇔ settings equal', () => {
    fc.assert(
      fc.property(suiteArb, (d) => {
        const input = {
          name: 'prop',
          cycles: d.cycles,
          shuffle: d.shuffle,
          models: d.gpus.map((g, i) => ({
            model_name: `org/m${i}`,
            ...(g && { gpu_ids: Array.from({ length: g }, (_, j) => j) }),
          })),
          base: { decoding: { mode: d.mode }, traffic: { delay_max_ms: 20 } },
          include_base: d.include_base,
          controlled: d.controlled,
          grid: d.grid,
          scenarios: Object.fromEntries(d.scenarios.map((s, i) => [`sc${i}`, s])),
        };
        const parsed = parseSuite(input);
        expect(parsed.errors).toEqual([]);
        const x = expandSuite(parsed.config!, { skipInvalid: true });
        expect(x.errors).toEqual([]);

        const configurations = expectedConfigurations(d);
        const invalidKeys = new Set<string>();
        d.gpus.forEach((g, i) => {
          for (const c of configurations)
            if (mustBeInvalid(d, g, c.settings)) invalidKeys.add(`org/m${i}::prop::${c.name}`);
        });
        expect(new Set(x.invalid.map((i) => i.key))).toEqual(invalidKeys);
        expect(x.invalid.every((i) => i.reasons.length > 0)).toBe(true);
        expect(x.experiments).toHaveLength(d.cycles * (d.gpus.length * configurations.length - invalidKeys.size));

        const keys = x.experiments.map((e) => e.key);
        expect(new Set(keys).size).toBe(keys.length);
        const valid = new Set(
          d.gpus
            .flatMap((_, i) => configurations.map((c) => `org/m${i}::prop::${c.name}`))
            .filter((k) => !invalidKeys.has(k)),
        );
        for (let cycle = 1; cycle <= d.cycles; cycle++) {
          expect(
            new Set(x.experiments.filter((e) => e.cycle === cycle).map((e) => e.key.replace(/::\d+$/, ''))),
          ).toEqual(valid);
        }

        const hashOf = new Map<string, string>();
        const settingsOf = new Map<string, string>();
        for (const e of x.experiments) {
          const settings = canonicalJson({ ...e.experiment, cycle_id: null });
          expect(hashOf.get(settings) ?? e.hash).toBe(e.hash);
          expect(settingsOf.get(e.hash) ?? settings).toBe(settings);
          hashOf.set(settings, e.hash);
          settingsOf.set(e.hash, settings);
          expect(e.experiment.cycle_id).toBe(e.cycle);
          const { model_name, suite, config_name, cycle_id } = e.experiment; // the tracker's progress key
          expect(e.key).toBe(`${model_name}::${suite}::${config_name}::${cycle_id}`);
        }
        const sample = x.experiments[0];
        if (sample) expect(parseExperiment(sample.experiment)).toMatchObject({ config: sample.experiment, errors: [] });
      }),
      { numRuns: 60 },
    );
  });
});
