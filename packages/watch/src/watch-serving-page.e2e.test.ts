import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LOADS, SETTINGS, servingRow, servingRows, writeServingRows } from '@joules/test-utils';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWatch, type WatchServer } from './index.js';
import type { ServingPoint } from './serving-data.js';

// The watch page of a serving sweep in headless Chromium: the throughput–latency curve of each
// server setting with its saturation point, and the Pareto front of J per request against p90 TTFT,
// drawn from the status's serving points (checked against /api/status), updated by a delta.
// JOULES_WATCH_SCREENSHOTS=<dir> keeps the screenshot.
const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let tmp = '';
let watch: WatchServer;
let browser: Browser | undefined;
const rows = servingRows();
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-serving-page-'));
  await writeServingRows(tmp, rows);
  watch = await startWatch({ resultsDir: tmp, port: 0, pollMs: 50, throttleMs: 20 });
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});

const drawn = `window.joulesWatch.serving.then((v) => JSON.parse(JSON.stringify(v ? v.data('serving') : [])))`;
const byKey = (ps: ServingPoint[]) => [...ps].sort((a, b) => a.key.localeCompare(b.key));

describe.skipIf(!hasChromium)('the watch page of a serving sweep (slow)', () => {
  it('draws the throughput–latency curves with the saturation points and the Pareto fronts', async () => {
    const page = await browser!.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(watch.url);
    await page.waitForFunction('window.joulesWatch.servingUpdates > 0');
    const points = (await page.evaluate(drawn)) as ServingPoint[];
    expect(byKey(points)).toEqual(byKey((await watch.status()).serving!.points));
    expect(points).toHaveLength(SETTINGS.length * LOADS.length);
    expect(points.filter((p) => p.saturation).map((p) => [p.series, p.load])).toEqual(
      SETTINGS.map((seqs) => [`tiny-llama · server.max_num_seqs-${seqs}`, seqs]).sort(),
    );
    expect(await page.locator('#serving-section').isVisible()).toBe(true);
    expect(await page.locator('#serving-note').textContent()).toBe('12 configurations, by concurrency');
    const count = (sel: string) => page.locator(`#serving svg ${sel}`).count();
    // A curve and a front line per setting; a point per configuration in each panel plus the front's
    // points; two interval rules per configuration and panel; a ring and a label per setting.
    expect(await count('.mark-line.role-mark path')).toBe(2 * SETTINGS.length);
    expect(await count('.mark-rule.role-mark line')).toBe(2 * 2 * points.length);
    expect(await count('.mark-text.role-mark text')).toBe(SETTINGS.length);
    const front = points.filter((p) => p.front).length;
    expect(await count('.mark-symbol.role-mark path')).toBe(2 * points.length + SETTINGS.length + front);

    // Another cycle of one configuration: the page applies the delta and draws the new figures.
    const updates = (await page.evaluate('window.joulesWatch.servingUpdates')) as number;
    await writeServingRows(tmp, [servingRow(rows.length + 1, 16, 32, 4)], true);
    await page.waitForFunction(`window.joulesWatch.servingUpdates > ${updates}`);
    expect(byKey((await page.evaluate(drawn)) as ServingPoint[])).toEqual(
      byKey((await watch.status()).serving!.points),
    );
    expect(await page.evaluate('window.joulesWatch.statusUpdates')).toBe(1);

    const shot = path.join(tmp, 'watch-serving.png');
    await page.locator('#serving').screenshot({ path: shot });
    if (process.env.JOULES_WATCH_SCREENSHOTS) {
      await mkdir(process.env.JOULES_WATCH_SCREENSHOTS, { recursive: true });
      await copyFile(shot, path.join(process.env.JOULES_WATCH_SCREENSHOTS, 'watch-serving.png'));
      await page.locator('#chart').screenshot({
        path: path.join(process.env.JOULES_WATCH_SCREENSHOTS, 'watch-serving-jtoken.png'),
      });
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
