import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RESULT_COLUMNS } from '@joules/metrics';
import { appendCsvRows, ProgressJournal } from '@joules/tracker';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeResultsFolder } from './__fixtures__/results-folder.js';
import { startWatch, type WatchServer } from './index.js';

// The dashboard in headless Chromium over a folder that a suite keeps writing to: the page applies
// the deltas (a row's status, a new result, the chart) without reloading.
const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let tmp = '';
let watch: WatchServer;
let browser: Browser | undefined;
let keys: string[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-page-'));
  ({ keys } = await makeResultsFolder(tmp, { done: 4, failed: 2, pending: 3 }));
  watch = await startWatch({ resultsDir: tmp, port: 0, pollMs: 50, throttleMs: 20 });
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});

// Browser-side code as strings: the test's tsconfig has no DOM lib.
const rows = (selector: string) => `document.querySelectorAll(${JSON.stringify(selector)}).length`;
const statusOf = (key: string) =>
  `document.querySelector(${JSON.stringify(`#experiments tr[data-key="${key}"]`)})?.getAttribute('data-status')`;
const rendered = 'window.joulesWatch.chart.then(() => true)';

describe.skipIf(!hasChromium)('the dashboard (slow)', () => {
  it('applies the deltas: a pending experiment done, its result, the chart', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(watch.url);
    await page.waitForFunction(`${rows('#experiments tr[data-key]')} === 9`);
    expect(await page.locator('#experiments tr[data-status="pending"]').count()).toBe(3);
    await page.evaluate(rendered);
    expect(await page.locator('#chart svg .mark-symbol.role-mark path').count()).toBe(3); // bs1, bs2, bs4
    // A min–max rule per group, and a 95 % interval bar for bs1 (2 cycles; the others have one row).
    expect(await page.locator('#chart svg .mark-rule.role-mark line').count()).toBe(4);
    expect(await page.locator('#serving-section').isHidden()).toBe(true);
    expect(await page.locator('#results tr[data-id]').count()).toBe(4);
    const charts = (await page.evaluate('window.joulesWatch.chartUpdates')) as number;

    // A suite runs the first pending key: journal start, result row, journal finish.
    const key = keys[6]!;
    const journal = await ProgressJournal.open(tmp);
    const { entry } = await journal.start(key, { configHash: 'h' });
    await page.waitForFunction(`${statusOf(key)} === 'running'`);
    const row = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, null])) as Record<string, string | number | null>;
    Object.assign(row, {
      experiment_id: entry.experimentId!,
      config_name: 'bs1',
      model_name: 'org/tiny',
      suite: 'demo',
      cycle_id: 3,
      batch_size: 1,
      energy_per_token_j: 0.5,
      energy_total_j: 5,
    });
    await appendCsvRows(path.join(tmp, 'text_generation_results.csv'), RESULT_COLUMNS, [
      RESULT_COLUMNS.map((c) => row[c]!),
    ]);
    await journal.finish(key, entry.experimentId!, 'done');

    await page.waitForFunction(`${statusOf(key)} === 'done'`);
    await page.waitForFunction('window.joulesWatch.status.progress.total.done === 5');
    await page.waitForFunction(`window.joulesWatch.chartUpdates > ${charts}`);
    await page.evaluate(rendered);
    expect(await page.locator('#chart svg .mark-symbol.role-mark path').count()).toBe(3); // bs1 has a third cycle
    const bs1 = (await watch.status()).chart.groups.find((g) => g.x === 1)!;
    expect(bs1.n).toBe(3);
    expect(bs1.ci95_low).toBeLessThan(bs1.mean);
    expect(await page.locator('#chart svg .mark-rule.role-mark line').count()).toBe(4);
    if (process.env.JOULES_WATCH_SCREENSHOTS)
      await page
        .locator('#chart')
        .screenshot({ path: path.join(process.env.JOULES_WATCH_SCREENSHOTS, 'watch-chart.png') });
    expect(await page.locator(`#results tr[data-id="${entry.experimentId}"]`).count()).toBe(1);
    expect(await page.locator('#experiments tr[data-key]').count()).toBe(9);
    expect(await page.evaluate('[window.joulesWatch.statusUpdates, window.joulesWatch.deltaUpdates > 0]')).toEqual([
      1,
      true,
    ]);
    expect(await page.locator('#summary').textContent()).toMatch(/^5 done, 2 failed, 0 running, 2 pending/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('pages and filters the experiments', async () => {
    const page = await browser!.newPage();
    await page.goto(watch.url);
    await page.waitForFunction(`${rows('#experiments tr[data-key]')} === 9`);
    await page.selectOption('#xp-status', 'failed');
    await page.waitForFunction(`${rows('#experiments tr[data-key]')} === 2`);
    expect(await page.locator('#xp-range').textContent()).toBe('1–2 of 2');
    expect(await page.locator('#xp-next').isDisabled()).toBe(true);
    await page.close();
  });
});
