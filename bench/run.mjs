#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.mjs (or those named on the command line), then writes
// bench/results.json and bench/results.md (median and spread of >= 5 runs, machine in the header).
// Each benchmark module exports `title` and `run()` → [{ name, unit, samples, goal?, ratio? }].
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();

const quantile = (sorted, q) => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
};
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    p25: quantile(s, 0.25),
    p75: quantile(s, 0.75),
    min: s[0],
    max: s.at(-1),
  };
}
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

function machine() {
  let git = null;
  try {
    git = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  } catch {}
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return {
    cpu,
    cores: os.cpus().length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    git,
    date: new Date().toISOString(),
  };
}

const results = [];
const started = Date.now();
for (const file of files) {
  const mod = await import(pathToFileURL(dir + file).href);
  process.stderr.write(`[bench] ${file}: ${mod.title}…\n`);
  const t0 = Date.now();
  try {
    for (const r of await mod.run()) results.push({ file, title: mod.title, ...r, ...summarize(r.samples) });
  } catch (error) {
    results.push({
      file,
      title: mod.title,
      name: 'FAILED',
      unit: '',
      samples: [],
      error: String(error?.stack ?? error),
    });
    process.stderr.write(`[bench] ${file} failed: ${error?.message ?? error}\n`);
  }
  process.stderr.write(`[bench] ${file} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
const m = machine();
const lines = [
  `# Joules benchmarks`,
  '',
  `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.platform}, Node ${m.node}, commit ${m.git ?? '?'}, ${m.date}.`,
  `Median and interquartile range over n runs; ratios are measured within one run (absolute times on shared machines mean little).`,
  '',
  '| benchmark | measure | median | p25–p75 | n | goal |',
  '|---|---|---|---|---|---|',
  ...results.map((r) =>
    r.error
      ? `| ${r.title} | FAILED: ${r.error.split('\n')[0]} | | | | |`
      : `| ${r.title} | ${r.name} | ${fmt(r.median)} ${r.unit} | ${fmt(r.p25)}–${fmt(r.p75)} | ${r.n} | ${r.goal ?? ''} |`,
  ),
  '',
  `Total bench time: ${((Date.now() - started) / 1000).toFixed(0)} s. Reproduce: \`npm run bench\` (or \`npm run bench -- <name>\`).`,
];
writeFileSync(dir + 'results.json', `${JSON.stringify({ machine: m, results }, null, 2)}\n`);
writeFileSync(dir + 'results.md', `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
if (results.some((r) => r.error)) process.exitCode = 1;
