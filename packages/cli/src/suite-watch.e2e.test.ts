import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '@joules/launcher';
import { parsePrometheusText } from '@joules/watch';
import { parse } from 'csv-parse/sync';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

// The real thing: examples/demo-suite.yaml (one cycle: 6 experiments of 2 tiny models) through the
// real bin with --watch, the dashboard open in headless Chromium the whole time.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const suiteFile = path.join(root, 'examples/demo-suite.yaml');
const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`[watch e2e] SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set JOULES_CHROMIUM)`);

// The page's DOM, typed just enough (the test's tsconfig has no DOM lib).
interface El {
  getAttribute(name: string): string | null;
  children: ArrayLike<{ textContent: string | null }>;
}
type Win = {
  document: { querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> & Iterable<El> };
};

const children: ChildProcess[] = [];
let tmp: string | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Start the bin; resolves with the child and the URL it prints on stderr (`watch: URL` / `at URL`). */
function startBin(args: string[]): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HF_HUB_OFFLINE: '1' },
    });
    children.push(child);
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let log = '';
    const onLine = (line: string) => {
      log += `${line}\n`;
      const m = /(?:watch: |at )(http:\/\/\S+\/)/.exec(line);
      if (m) resolve({ child, url: m[1]!, exit });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.on('error', reject);
    void exit.then((code) => reject(new Error(`exited ${code} before serving:\n${log}`)));
  });
}

describe.skipIf(!hasChromium)('joules suite --watch (slow)', () => {
  it('shows an experiment go from running to done without a reload; /metrics matches the CSV', {
    timeout: 600_000,
  }, async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-e2e-'));
    const results = path.join(tmp, 'results');
    const port = await freePort();
    const suite = await startBin([
      'suite',
      suiteFile,
      '--set',
      'cycles=1',
      '--results-dir',
      results,
      '--watch',
      String(port),
      '--json',
    ]);
    expect(suite.url).toBe(`http://127.0.0.1:${port}/`);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      let navigations = 0;
      page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
      await page.goto(suite.url);
      await page.evaluate(() => ((globalThis as unknown as { loadMarker: number }).loadMarker = 42));

      // An experiment running, with its worker stage shown…
      const running = await page.waitForFunction(
        () => {
          const row = (globalThis as unknown as Win).document.querySelector('#running tr[data-key]');
          const stage = row?.children[2]?.textContent;
          return row && stage && stage !== 'starting' ? { key: row.getAttribute('data-key')!, stage } : false;
        },
        undefined,
        { timeout: 300_000, polling: 50 },
      );
      const { key, stage } = (await running.jsonValue()) as { key: string; stage: string };
      expect(['loading_model', 'loading_prompts', 'warmup', 'measuring', 'writing']).toContain(stage);
      expect(await page.locator(`#experiments tr[data-status="running"]`).count()).toBeGreaterThanOrEqual(1);

      // …then the same row done, on the same page (no navigation, the marker survives).
      await page.waitForFunction(
        (k) =>
          [...(globalThis as unknown as Win).document.querySelectorAll('#experiments tr[data-key]')].some(
            (r) => r.getAttribute('data-key') === k && r.getAttribute('data-status') === 'done',
          ),
        key,
        { timeout: 300_000, polling: 100 },
      );
      expect(await page.evaluate(() => (globalThis as unknown as { loadMarker?: number }).loadMarker)).toBe(42);
      expect(navigations).toBe(1);

      // The live /metrics parses as strict Prometheus text while the suite runs.
      const live = parsePrometheusText(await (await fetch(`${suite.url}metrics`)).text());
      expect(
        live.get('joules_experiments')!.samples.find((s) => s.labels.status === 'done')!.value,
      ).toBeGreaterThanOrEqual(1);

      expect(await suite.exit).toBe(0);
      // The final picture reached the page before the stream closed: 6 done, one point per result on the chart.
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { joulesWatch: { status: { progress: { total: { done: number } } } } }).joulesWatch
            .status?.progress.total.done === 6,
        undefined,
        { timeout: 30_000 },
      );
      await page.evaluate(() =>
        (globalThis as unknown as { joulesWatch: { chart: Promise<unknown> } }).joulesWatch.chart.then(() => true),
      );
      expect(await page.locator('#chart svg .mark-symbol.role-mark path').count()).toBe(6);
      expect(await page.locator('#experiments tr[data-status="done"]').count()).toBe(6);
      expect(navigations).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    // `joules watch` alone over the finished folder: /metrics counts equal the CSV's.
    const rows = parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    const watch = await startBin(['watch', '--results-dir', results, '--port', String(await freePort())]);
    try {
      const metrics = parsePrometheusText(await (await fetch(`${watch.url}metrics`)).text());
      const sample = (family: string, labels: Record<string, string>) =>
        metrics.get(family)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      expect(sample('joules_experiments', { suite: 'demo-suite', status: 'done' })).toBe(rows.length);
      expect(sample('joules_experiments', { suite: 'demo-suite', status: 'failed' })).toBe(0);
      expect(sample('joules_energy_joules_total', { suite: 'demo-suite' })).toBeCloseTo(
        rows.reduce((a, r) => a + Number(r.energy_total_j), 0),
        6,
      );
      const count = metrics
        .get('joules_experiment_duration_seconds')!
        .samples.find((s) => s.name === 'joules_experiment_duration_seconds_count');
      expect(count?.value).toBe(rows.length);
      expect(metrics.get('joules_failures_total')!.samples).toEqual([]);
      const status = (await (await fetch(`${watch.url}api/status`)).json()) as {
        results: Array<{ experiment_id: string }>;
      };
      expect(status.results.map((r) => r.experiment_id).sort()).toEqual(rows.map((r) => r.experiment_id).sort());
    } finally {
      watch.child.kill('SIGINT');
      expect(await watch.exit).toBe(0);
    }
  });
});
