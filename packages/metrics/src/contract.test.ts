import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { rawMeasurementJsonSchema, RawMeasurementSchema } from './raw-measurement.js';

const contract = fileURLToPath(new URL('../../../contract/', import.meta.url));
const json = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

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
    const ranks = files.map((f) => RawMeasurementSchema.parse(json(dir + f)));
    expect(ranks.length).toBe(ranks[0]!.world_size);
    const t = aggregateRanks(ranks);
    expect(t.output_tokens).toBe(ranks.reduce((s, r) => s + r.tokens.output_tokens, 0));
    const distinct = new Set(ranks.flatMap((r) => r.energy.readings.map((x) => `${x.scope}|${x.device_id}`)));
    expect(t.energy_readings).toHaveLength(distinct.size);
    const m = deriveMetrics(t);
    for (const v of Object.values(m)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    if (existsSync(`${dir}expected.json`)) expect(m).toMatchObject(json(`${dir}expected.json`) as object);
  });
});
