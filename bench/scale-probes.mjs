// Probes of bench/scale.bench.mjs: the bin run as a subprocess (wall time, peak RSS), a report
// rendered in Chromium, a watch process measured from spawn to its first status and one update.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '@joules/launcher';
import { RESULT_COLUMNS } from '@joules/metrics';
import { DEMO_ROW } from '@joules/test-utils/study-folder';
import { csvLine, formatExperimentId, progressKey } from '@joules/tracker';

const RENDER_TIMEOUT_MS = 180_000;
const QUIET_MS = 1000;
const MB = 2 ** 20;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run the bin; wall seconds and (with /usr/bin/time) peak RSS in MB. */
export function joules(bin, args, { peak = false } = {}) {
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
      if (error) {
        rmSync(timeFile, { force: true });
        const lines = (stderr || error.message).trim().split('\n');
        return reject(new Error(`joules ${args[0]}: ${lines.find((l) => /error/i.test(l)) ?? lines.at(-1)}`));
      }
      if (useTime) {
        hwm = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) / 1024;
        rmSync(timeFile, { force: true });
      }
      resolve({ seconds, peakMb: peak ? hwm : undefined, stdout });
    });
    // Without /usr/bin/time: the kernel's high-water mark, read until the process exits.
    const poll = setInterval(() => {
      if (useTime || !peak) return;
      try {
        const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        if (kb) hwm = Math.max(hwm, Number(kb) / 1024);
      } catch {} // exited
    }, 50);
  });
}

export async function renderSeconds(browser, file) {
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

/** Until the event stream has sent something and then been quiet for QUIET_MS. */
async function quiet(stream) {
  const t0 = performance.now();
  while (stream.bytes === 0 || performance.now() - stream.last < QUIET_MS) {
    if (stream.closed)
      throw new Error(`the server closed the event stream (${(stream.total / 1024).toFixed(0)} KB sent)`);
    if (performance.now() - t0 > 30_000) throw new Error('no event within 30 s');
    await sleep(50);
  }
}

/**
 * One watch process: seconds from spawn to the first whole /api/status and its size, the KB an
 * /events client receives for one new experiment (an Error when none came), and VmRSS after it.
 */
export async function watchOnce(bin, dir, nextId) {
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
    const stream = { bytes: 0, total: 0, last: performance.now(), closed: false };
    events = get({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      res.on('data', (c) => {
        Object.assign(stream, { bytes: stream.bytes + c.length, total: stream.total + c.length });
        stream.last = performance.now();
      });
      res.on('close', () => (stream.closed = true));
    });
    events.on('error', () => {});
    let updateKb;
    try {
      await quiet(stream);
      stream.bytes = 0;
      appendExperiment(dir, nextId);
      await quiet(stream);
      updateKb = stream.bytes / 1024;
    } catch (error) {
      updateKb = error; // the other figures stand
    }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
    return { ...first, updateKb, rss };
  } finally {
    events?.destroy();
    child.kill();
  }
}
