// Issue 24: what a user does after a study of thousands, at 1,000, 21,120 and 100,000 rows. Each
// size is a results folder written by writeStudyFolder (the demo's real row repeated over 4 models ×
// configurations × 5 cycles, with its journal and a few failures); every figure goes through the
// real bin as a subprocess:
// - `joules report`: wall time, peak RSS (/usr/bin/time, else /proc polling), the HTML's size, and
//   headless Chromium's time from navigation to the rendered page (window.joulesReport resolved);
// - `joules watch`: spawn to the first whole /api/status (and its size), the bytes an /events client
//   receives for one new experiment (CSV row + journal line appended; counted until the stream has
//   been quiet for 1 s, whatever the event format), and the process's VmRSS after that update;
// - `joules results` (a group-by query) and `joules status`: wall time.
// JOULES_BENCH_SCALE_SIZES (default 1000,21120,100000); JOULES_BENCH_SCALE_RUNS: runs of the report
// and watch at 100,000 rows and more (default 1; 3 below); results and status always run 3 times.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { joules, renderSeconds, watchOnce } from './scale-probes.mjs';

export const title = 'Issue 24: a study at scale (report, watch, results, status)';
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const SIZES = (process.env.JOULES_BENCH_SCALE_SIZES ?? '1000,21120,100000').split(',').map(Number);
const LARGE_RUNS = Number(process.env.JOULES_BENCH_SCALE_RUNS ?? 1);
const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const MB = 2 ** 20;
const GROUP_BY = 'SELECT model_name, count(*) AS n, avg(energy_per_token_j) FROM results GROUP BY 1';
const GOALS = {
  21120: { html: '≤ 10 MB', render: '< 5 s' },
  100000: {
    html: '≤ 15 MB',
    render: '< 10 s',
    first: '< 1 s',
    bytes: '< 64 KB',
    rss: '< 300 MB',
    results: '< 2 s',
    status: '< 2 s',
  },
};
const log = (line) => process.stderr.write(`[bench scale] ${line}\n`);

/** Run `fn` `runs` times into the named series; a failure (thrown, or an Error as a value) becomes that series' error. */
async function series(out, defs, runs, fn) {
  const samples = Object.fromEntries(defs.map((d) => [d.key, []]));
  const errors = {};
  try {
    for (let i = 0; i < runs; i++) {
      const r = await fn(i);
      for (const d of defs)
        if (r[d.key] instanceof Error) errors[d.key] ??= r[d.key].message;
        else samples[d.key].push(r[d.key]);
    }
  } catch (error) {
    for (const d of defs) errors[d.key] ??= error.message;
  }
  for (const d of defs) {
    if (errors[d.key]) log(`${d.name}: ${errors[d.key]}`);
    out.push({
      name: d.name,
      unit: d.unit,
      samples: samples[d.key],
      ...(d.goal && { goal: d.goal }),
      ...(errors[d.key] && { error: `${d.name}: ${errors[d.key]}` }),
    });
  }
}

export async function run() {
  const out = [];
  const { chromium } = await import('playwright-core');
  const browser = existsSync(CHROMIUM)
    ? await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    : undefined;
  if (!browser) log(`no Chromium at ${CHROMIUM}: render times skipped`);
  try {
    for (const size of SIZES) {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-bench-scale-'));
      try {
        const rows = size.toLocaleString('en-US');
        const goal = GOALS[size] ?? {};
        const runs = size >= 100_000 ? LARGE_RUNS : 3;
        const dir = path.join(tmp, 'results');
        await writeStudyFolder(dir, { experiments: size, failures: Math.max(1, Math.round(size / 5000)) });
        log(`${rows} rows written`);
        await series(
          out,
          [
            { key: 'results', name: `results (group-by), ${rows} rows`, unit: 's', goal: goal.results },
            { key: 'status', name: `status, ${rows} rows`, unit: 's', goal: goal.status },
          ],
          3,
          async () => ({
            results: (await joules(bin, ['results', '--results-dir', dir, '--sql', GROUP_BY])).seconds,
            status: (await joules(bin, ['status', '--results-dir', dir])).seconds,
          }),
        );
        const html = path.join(tmp, 'report.html');
        const report = [
          { key: 'seconds', name: `report build, ${rows} rows`, unit: 's' },
          { key: 'peakMb', name: `report peak RSS, ${rows} rows`, unit: 'MB' },
          { key: 'htmlMb', name: `report HTML size, ${rows} rows`, unit: 'MB', goal: goal.html },
        ];
        if (browser)
          report.push({ key: 'render', name: `report render (Chromium), ${rows} rows`, unit: 's', goal: goal.render });
        await series(out, report, runs, async (i) => {
          const r = await joules(bin, ['report', '--results-dir', dir, '--out', html], { peak: true });
          const htmlMb = statSync(html).size / MB;
          log(
            `${rows} report ${i + 1}/${runs}: ${r.seconds.toFixed(2)} s, ${r.peakMb.toFixed(0)} MB, ${htmlMb.toFixed(1)} MB HTML`,
          );
          return { ...r, htmlMb, render: browser ? await renderSeconds(browser, html) : undefined };
        });
        await series(
          out,
          [
            { key: 'seconds', name: `watch: first /api/status, ${rows} rows`, unit: 's', goal: goal.first },
            { key: 'kb', name: `watch: first /api/status size, ${rows} rows`, unit: 'KB' },
            {
              key: 'updateKb',
              name: `watch: bytes per new experiment per client, ${rows} rows`,
              unit: 'KB',
              goal: goal.bytes,
            },
            { key: 'rss', name: `watch: resident memory, ${rows} rows`, unit: 'MB', goal: goal.rss },
          ],
          runs,
          async (i) => {
            const r = await watchOnce(bin, dir, size + 1000 + i);
            log(
              `${rows} watch ${i + 1}/${runs}: ${r.seconds.toFixed(2)} s, ${r.updateKb instanceof Error ? r.updateKb.message : `${r.updateKb.toFixed(1)} KB/update`}, ${r.rss.toFixed(0)} MB`,
            );
            return r;
          },
        );
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  } finally {
    await browser?.close();
  }
  return out;
}
