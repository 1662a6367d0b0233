import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { RawMeasurementSchema, rawMeasurementJsonSchema } from './raw-measurement.js';

const contract = fileURLToPath(new URL('../../../contract/', import.meta.url));
const json = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/** Deep comparison of the keys `expected` names; numbers within a relative 1e-9 (hand-written decimals). */
function expectClose(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const tolerance = 1e-9 * Math.max(Math.abs(expected), Number.MIN_VALUE);
    if (!(Math.abs(actual - expected) <= tolerance))
      expect.fail(`${path}: ${actual} is not ${expected} (±${tolerance})`);
  } else if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    expect(actual, path).toBeTypeOf('object');
    for (const [k, v] of Object.entries(expected)) {
      expect(actual as object, path).toHaveProperty([k]);
      expectClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    }
  } else expect(actual, path).toEqual(expected);
}

describe('worker contract: raw measurement', () => {
  it('contract/raw-measurement.schema.json is the one generated from the zod schema (run `npm run contract`)', () => {
    expect(json(`${contract}raw-measurement.schema.json`)).toEqual(rawMeasurementJsonSchema());
  });

  const runs = readdirSync(`${contract}fixtures`).filter((d) => d.startsWith('raw-'));
  it('has captured worker runs to check against', () => {
    expect(runs.length).toBeGreaterThan(0);
  });

  it.each(runs)('fixture %s parses, and each device is counted once', (run) => {
    const dir = `${contract}fixtures/${run}/`;
    const files = readdirSync(dir).filter((f) => /^rank-\d+\.json$/.test(f));
    const ranks = files.map((f) => {
      const parsed = RawMeasurementSchema.safeParse(json(dir + f));
      if (!parsed.success)
        expect.fail(`${run}/${f}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    });
    expect(ranks.length).toBe(ranks[0]!.world_size);
    const t = aggregateRanks(ranks);
    expect(t.output_tokens).toBe(ranks.reduce((s, r) => s + r.tokens.output_tokens, 0));
    const distinct = new Set(ranks.flatMap((r) => r.energy.readings.map((x) => `${x.scope}|${x.device_id}`)));
    expect(t.energy_readings).toHaveLength(distinct.size);
    const m = deriveMetrics(t);
    for (const v of Object.values(m)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    expect(deriveMetrics(aggregateRanks([...ranks].reverse()))).toEqual(m);
    if (existsSync(`${dir}expected.json`)) {
      const expected = json(`${dir}expected.json`) as {
        metrics: Record<string, unknown>;
        totals?: Record<string, unknown>;
      };
      expect(Object.keys(expected.metrics).sort(), 'expected.json names every metric').toEqual(Object.keys(m).sort());
      expectClose(m, expected.metrics, 'metrics');
      if (expected.totals) expectClose(t, expected.totals, 'totals');
    }
  });
});
