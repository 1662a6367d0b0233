#!/usr/bin/env node
// Writes contract/*.schema.json from the zod schemas of the built packages.
// Run through `npm run contract` (builds first). Tests fail when these files are stale.
// `node tools/export-contract.mjs experiment` writes only that schema (others: raw-measurement, event).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { enginesContract, experimentJsonSchema, suiteJsonSchema } from '@joules/config';
import { workerEventJsonSchema } from '@joules/launcher';
import { rawMeasurementJsonSchema } from '@joules/metrics';

const dir = fileURLToPath(new URL('../contract/', import.meta.url));
const files = {
  'experiment.schema.json': experimentJsonSchema('output'),
  'experiment-input.schema.json': experimentJsonSchema('input'),
  'suite.schema.json': suiteJsonSchema(),
  'raw-measurement.schema.json': rawMeasurementJsonSchema(),
  'event.schema.json': workerEventJsonSchema(),
  'engines.json': enginesContract(), // the engine and energy-backend tables (a pytest holds the worker to it)
};
// The worker validates its input against this copy, shipped in its package (a pytest keeps it equal).
const PACKAGED = {
  'experiment.schema.json': fileURLToPath(
    new URL('../python/joules_worker/data/experiment.schema.json', import.meta.url),
  ),
};
const only = process.argv.slice(2).map((n) => (`${n}.json` in files ? `${n}.json` : `${n}.schema.json`));
for (const name of only)
  if (!(name in files)) throw new Error(`unknown schema ${name}; known: ${Object.keys(files).join(', ')}`);
for (const [name, schema] of Object.entries(files)) {
  if (only.length && !only.includes(name)) continue;
  writeFileSync(dir + name, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote contract/${name}`);
  if (name in PACKAGED) {
    writeFileSync(PACKAGED[name], `${JSON.stringify(schema, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), PACKAGED[name])}`);
  }
}
