// Results CSV append (@joules/tracker, built: lock + header/tail check + one write + fsync)
// against the original's approach: read the whole CSV, add the row, write it all back.
//   node bench/tracker-csv.bench.mjs
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { appendCsvRows } from '@joules/tracker';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

export const title = 'tracker: results CSV append vs read-modify-rewrite per row';

const SAMPLES = 5;
// As wide as the results table: identity columns, then numbers.
const COLUMNS = [
  'experiment_id',
  'config_name',
  'model_name',
  'suite',
  'cycle_id',
  'task_type',
  ...Array.from({ length: 40 }, (_, i) => `metric_${i}`),
  'config_hash',
];
const row = (i) => [
  String(i + 1).padStart(6, '0'),
  `config-${i % 50}`,
  `org/model-${i % 7}`,
  'suite',
  1 + (i % 5),
  'text_generation',
  ...Array.from({ length: 40 }, (_, k) => (i * 31 + k) / 7),
  '3f2a9c0d1b4e5f60',
];

async function csvWith(dir, n) {
  const file = path.join(dir, `r${n}_results.csv`);
  for (let from = 0; from < n; from += 10_000) {
    await appendCsvRows(
      file,
      COLUMNS,
      Array.from({ length: Math.min(10_000, n - from) }, (_, k) => row(from + k)),
    );
  }
  return file;
}

async function appendCost(file, count, next) {
  const t0 = performance.now();
  for (let k = 0; k < count; k++) await appendCsvRows(file, COLUMNS, [row(next + k)]);
  return (performance.now() - t0) / count;
}

/** The original (pandas read_csv → concat → to_csv), in JS: parse all, add a row, write all. */
async function rewriteCost(file, count, next) {
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const rows = parse(await readFile(file, 'utf8'));
    rows.push(row(next + k));
    await writeFile(file, stringify(rows));
  }
  return (performance.now() - t0) / count;
}

export async function run() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-bench-csv-'));
  const sizes = [1_000, 100_000];
  const files = {};
  const copies = {};
  for (const n of sizes) {
    files[n] = await csvWith(dir, n);
    copies[n] = path.join(dir, `copy-${n}.csv`);
    await writeFile(copies[n], await readFile(files[n]));
  }
  const append = { 1000: [], 100000: [] };
  const rewrite = { 1000: [], 100000: [] };
  let next = 200_000;
  for (let s = 0; s < SAMPLES; s++) {
    for (const n of sizes) {
      next += 200;
      append[n].push(await appendCost(files[n], 200, next));
    }
    for (const n of sizes) {
      next += 20;
      rewrite[n].push(await rewriteCost(copies[n], n > 10_000 ? 1 : 20, next));
    }
  }
  // The appended file is still whole: header + every row, same width.
  const rows = parse(await readFile(files[100_000], 'utf8'));
  if (rows.length !== 1 + 100_000 + SAMPLES * 200 || rows.some((r) => r.length !== COLUMNS.length))
    throw new Error('CSV not whole after the bench');
  await rm(dir, { recursive: true, force: true });
  const ratio = (a, b) => a.map((x, i) => x / b[i]);
  return [
    { name: 'CSV append, 1,000 rows', unit: 'ms/row', samples: append[1_000] },
    { name: 'CSV append, 100,000 rows', unit: 'ms/row', samples: append[100_000] },
    {
      name: 'CSV append cost 100,000 ÷ 1,000',
      unit: 'ratio',
      samples: ratio(append[100_000], append[1_000]),
      goal: '≤ 1.5',
      ratio: true,
    },
    { name: 'baseline (original): read-modify-rewrite, 1,000 rows', unit: 'ms/row', samples: rewrite[1_000] },
    { name: 'baseline (original): read-modify-rewrite, 100,000 rows', unit: 'ms/row', samples: rewrite[100_000] },
    {
      name: 'baseline (original): cost 100,000 ÷ 1,000',
      unit: 'ratio',
      samples: ratio(rewrite[100_000], rewrite[1_000]),
      ratio: true,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) {
    const sorted = [...r.samples].sort((a, b) => a - b);
    console.log(
      `${r.name}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} ${r.unit} [${r.samples.map((x) => x.toFixed(3)).join(', ')}]${r.goal ? ` goal ${r.goal}` : ''}`,
    );
  }
}
