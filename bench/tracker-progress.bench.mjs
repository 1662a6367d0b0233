// Progress journal (@joules/tracker, built) against the original's approach: rewriting the whole
// progress JSON on every update. Run with the lead's runner (`npm run bench`) or alone:
//   node bench/tracker-progress.bench.mjs
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ProgressJournal } from '@joules/tracker';

export const title = 'tracker: progress journal (append + fsync) vs rewriting the progress JSON per update';

const SAMPLES = 5;
const key = (i) => `org/model-${i % 7}::suite::config-${i}::${1 + (i % 5)}`;

/** A results folder whose journal holds `n` done entries, in the format the journal writes. */
async function journalWith(n) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `joules-bench-journal-${n}-`));
  const j = await ProgressJournal.open(dir);
  await j.start('template', { configHash: '3f2a9c0d1b4e5f60', experimentId: '000001' });
  const template = await j.finish('template', '000001', 'done');
  const lines = [JSON.stringify({ format: 'joules-progress', version: 1 })];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ ...template, key: key(i), experimentId: String(i + 1).padStart(6, '0'), rev: 2 }));
  }
  await writeFile(j.file, `${lines.join('\n')}\n`);
  return dir;
}

/** ms per update: `count` updates (start + finish pairs) on keys spread over the journal. */
async function journalUpdates(journal, n, count) {
  const t0 = performance.now();
  for (let u = 0; u < count / 2; u++) {
    const k = key(Math.floor(Math.random() * n));
    const id = String(900_000 + u);
    await journal.start(k, { configHash: '3f2a9c0d1b4e5f60', experimentId: id, force: true });
    await journal.finish(k, id, 'done');
  }
  return (performance.now() - t0) / count;
}

/** The original: progress = {key: id}; after each update, the whole object is written again. */
async function rewriteUpdates(file, progress, n, count) {
  const t0 = performance.now();
  for (let u = 0; u < count; u++) {
    progress[key(Math.floor(Math.random() * n))] = String(900_000 + u);
    await writeFile(file, JSON.stringify(progress, null, 2)); // no fsync: as the original
  }
  return (performance.now() - t0) / count;
}

const RESUME_CHILD = `
import { planResume, ProgressJournal } from '@joules/tracker';
const key = ${key.toString()};
const items = Array.from({ length: 100_000 }, (_, i) => ({ key: key(i), configHash: '3f2a9c0d1b4e5f60' }));
const t0 = performance.now();
const journal = await ProgressJournal.open(process.env.JOULES_BENCH_DIR);
const plan = planResume(journal, items);
const ms = performance.now() - t0;
if (journal.size !== 100_000 || plan.done.length + plan.run.length !== 100_000) throw new Error('read back ' + journal.size);
console.log(ms);`;

async function resumeInFreshProcess(dir) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', RESUME_CHILD], {
    cwd: root,
    env: { ...process.env, JOULES_BENCH_DIR: dir },
  });
  return Number(stdout.trim());
}

export async function run() {
  const sizes = [1_000, 100_000];
  const dirs = Object.fromEntries(await Promise.all(sizes.map(async (n) => [n, await journalWith(n)])));
  const journals = Object.fromEntries(
    await Promise.all(sizes.map(async (n) => [n, await ProgressJournal.open(dirs[n])])),
  );
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'joules-bench-json-'));
  await mkdir(baseDir, { recursive: true });
  const originals = Object.fromEntries(
    sizes.map((n) => [n, Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), String(i + 1)]))]),
  );

  const update = { 1000: [], 100000: [] };
  const rewrite = { 1000: [], 100000: [] };
  for (let s = 0; s < SAMPLES; s++) {
    for (const n of sizes) update[n].push(await journalUpdates(journals[n], n, 400));
    for (const n of sizes)
      rewrite[n].push(
        await rewriteUpdates(path.join(baseDir, `progress-${n}.json`), originals[n], n, n > 10_000 ? 10 : 200),
      );
  }

  // Resume, as `joules run --resume` does it: a fresh process opens the 100,000-record journal
  // and plans the suite against it (the suite's expansion is not timed).
  const load = [];
  for (let s = 0; s < SAMPLES; s++) load.push(await resumeInFreshProcess(dirs[100_000]));

  // Compaction: one-off rewrite when superseded lines pile up (amortized over ≥ 3 × size updates).
  const compact = [];
  for (let s = 0; s < SAMPLES; s++) {
    const t0 = performance.now();
    await journals[100_000].compact();
    compact.push(performance.now() - t0);
  }

  for (const dir of [...Object.values(dirs), baseDir]) await rm(dir, { recursive: true, force: true });
  const ratio = (a, b) => a.map((x, i) => x / b[i]);
  return [
    { name: 'journal update, 1,000 records', unit: 'ms/update', samples: update[1_000] },
    { name: 'journal update, 100,000 records', unit: 'ms/update', samples: update[100_000] },
    {
      name: 'journal update cost 100,000 ÷ 1,000',
      unit: 'ratio',
      samples: ratio(update[100_000], update[1_000]),
      goal: '≤ 1.5',
      ratio: true,
    },
    { name: 'baseline (original): rewrite progress JSON, 1,000 records', unit: 'ms/update', samples: rewrite[1_000] },
    {
      name: 'baseline (original): rewrite progress JSON, 100,000 records',
      unit: 'ms/update',
      samples: rewrite[100_000],
    },
    {
      name: 'baseline (original): update cost 100,000 ÷ 1,000',
      unit: 'ratio',
      samples: ratio(rewrite[100_000], rewrite[1_000]),
      ratio: true,
    },
    { name: 'resume: load 100,000-record journal + plan', unit: 'ms', samples: load, goal: '< 1000' },
    { name: 'journal compaction, 100,000 keys (one-off, amortized)', unit: 'ms', samples: compact },
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
