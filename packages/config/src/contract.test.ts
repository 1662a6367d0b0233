import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { enginesContract } from './engines/engines-contract.js';
import { experimentJsonSchema } from './json-schema.js';
import { parseExperiment } from './parse.js';

const contract = fileURLToPath(new URL('../../../contract/', import.meta.url));
const json = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('worker contract: experiment input', () => {
  it('contract/experiment.schema.json is the one generated from the zod schema (run `npm run contract`)', () => {
    expect(json(`${contract}experiment.schema.json`)).toEqual(experimentJsonSchema('output'));
  });

  const fixtures = readdirSync(`${contract}fixtures`).filter((f) => /^experiment-.*\.json$/.test(f));
  it('has experiment fixtures', () => expect(fixtures.length).toBeGreaterThan(0));

  it.each(fixtures)('%s is a valid, complete effective experiment', (name) => {
    const data = json(`${contract}fixtures/${name}`);
    const r = parseExperiment(data);
    expect(r.errors).toEqual([]);
    expect(r.config).toEqual(data); // every key present: parsing adds nothing
  });
});

describe('worker contract: engines and energy backends', () => {
  it('contract/engines.json is the one generated from the engine and backend tables (run `npm run contract`)', () => {
    expect(json(`${contract}engines.json`)).toEqual(enginesContract());
  });
});
