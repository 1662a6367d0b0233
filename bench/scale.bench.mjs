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
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '@joules/launcher';
import { RESULT_COLUMNS } from '@joules/metrics';
import { DEMO_ROW, writeStudyFolder } from '@joules/test-utils/study-folder';
import { csvLine, formatExperimentId, progressKey } from '@joules/tracker';

export const title = 'Issue 24: a study at scale (report, watch, results, status)';
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const SIZES = (process.env.JOULES_BENCH_SCALE_SIZES ?? '1000,21120,100000').split(',').map(Number);
const LARGE_RUNS = Number(process.env.JOULES_BENCH_SCALE_RUNS ?? 1);
const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const RENDER_TIMEOUT_MS = 180_000;
const QUIET_MS = 1000;
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
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the bin; wall seconds and (with /usr/bin/time) peak RSS in MB. */
function joules(args, { peak = false } = {}) {
  const timeFile = path.join(os.tmpdir(), `joules-bench-time-${process.pid}-${Math.random()}`);
  const useTime = peak && existsSync('/usr/bin/time');
  const [cmd, argv] = useTime
    ? ['/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, bin, ...args]]
    : [process.execPath, [bin, ...args]];
  const t0 = performance.now();
  let hwm = 0;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, argv, { maxBuffer: 256 * MB }, (error, stdout, stderr) => {
      clearInterval(poll);
      const seconds = (performance.now() - t0) / 1000;
      if (error) return reject(new Error(`joules ${args[0]}: ${(stderr || error.message).trim().split('\n').at(-1)}`));
      if (useTime) {
        hwm = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) / 1024;
        rmSync(timeFile, { force: true });
      }
      resolve({ seconds, peakMb: peak ? hwm : undefined, stdout });
    });
    const poll = setInterval(() => {
      if (useTime || !peak) return;
      const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (kb) hwm = Math.max(hwm, Number(kb) / 1024);
    }, 50);
  });
}

async function renderSeconds(browser, file) {
  const page = await browser.newPage();
  try {
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: RENDER_TIMEOUT_MS });
    await page.evaluate(() => globalThis.joulesReport?.then(() => true) ?? true);
    return (performance.now() - t0) / 1000;
  } finally {
    await page.close();
  }
}

const httpGet = (port, urlPath) =>
  new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, bytes: Buffer.concat(chunks).length }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });

/** Append one finished experiment (CSV row and journal line) as a suite would. */
function appendExperiment(dir, n) {
  const id = formatExperimentId(n);
  const config = `cfg-new-${n}`;
  const row = { ...DEMO_ROW, experiment_id: id, config_name: config, suite: 'study', cycle_id: 1 };
  appendFileSync(path.join(dir, 'text_generation_results.csv'), csvLine(RESULT_COLUMNS.map((c) => row[c] ?? null)));
  const now = new Date().toISOString();
  const key = progressKey({ model_name: row.model_name, suite: 'study', config_name: config, cycle_id: 1 });
  const entry = { key, status: 'done', rev: 3, configHash: 'new', experimentId: id, attempts: 1 };
  const times = { createdAt: now, updatedAt: now, startedAt: now, finishedAt: now };
  appendFileSync(path.join(dir, '.joules', 'progress.jsonl'), `${JSON.stringify({ ...entry, ...times })}\n`);
}

/** One watch process: time to the first /api/status, bytes for one new experiment, VmRSS. */
async function watchOnce(dir, nextId) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, 'watch', '--results-dir', dir, '--port', String(port)], {
    stdio: 'ignore',
  });
  let events;
  try {
    let first;
    while (!first) {
      const r = await httpGet(port, '/api/status').catch(() => undefined);
      if (r?.status === 200) first = { seconds: (performance.now() - t0) / 1000, kb: r.bytes / 1024 };
      else if (child.exitCode !== null) throw new Error(`joules watch exited (${child.exitCode})`);
      else await sleep(20);
    }
    const stream = { bytes: 0, last: performance.now() };
    events = get({ host: '127.0.0.1', port, path: '/events' }, (res) =>
      res.on('data', (c) => Object.assign(stream, { bytes: stream.bytes + c.length, last: performance.now() })),
    );
    events.on('error', () => {});
    while (performance.now() - stream.last < QUIET_MS || stream.bytes === 0) await sleep(50);
    stream.bytes = 0;
    const appended = performance.now();
    appendExperiment(dir, nextId);
    while (stream.bytes === 0 || performance.now() - stream.last < QUIET_MS) {
      if (performance.now() - appended > 30_000) throw new Error('no event within 30 s of a new experiment');
      await sleep(50);
    }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
    return { ...first, updateKb: stream.bytes / 1024, rss };
  } finally {
    events?.destroy();
    child.kill();
  }
}

/** Run `fn` `runs` times into the named series; a failure becomes that series' error. */
async function series(out, defs, runs, fn) {
  const samples = Object.fromEntries(defs.map((d) => [d.key, []]));
  try {
    for (let i = 0; i < runs; i++) {
      const r = await fn(i);
      for (const d of defs) samples[d.key].push(r[d.key]);
    }
    for (const d of defs)
      out.push({ name: d.name, unit: d.unit, samples: samples[d.key], ...(d.goal && { goal: d.goal }) });
  } catch (error) {
    log(`${defs[0].name}: ${error.message}`);
    for (const d of defs) out.push({ name: d.name, unit: d.unit, samples: [], error: `${d.name}: ${error.message}` });
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
            results: (await joules(['results', '--results-dir', dir, '--sql', GROUP_BY])).seconds,
            status: (await joules(['status', '--results-dir', dir])).seconds,
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
          const r = await joules(['report', '--results-dir', dir, '--out', html], { peak: true });
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
            const r = await watchOnce(dir, size + 1000 + i);
            log(
              `${rows} watch ${i + 1}/${runs}: ${r.seconds.toFixed(2)} s, ${r.updateKb.toFixed(1)} KB/update, ${r.rss.toFixed(0)} MB`,
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
