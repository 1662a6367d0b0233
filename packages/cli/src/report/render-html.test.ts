import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from './render-html.js';

const CHROMIUM = process.env.JOULES_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`[report test] SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set JOULES_CHROMIUM)`);

function row(i: number, model: string, batch: number, precision: string, cycle: number): ResultRecord {
  const r = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, null])) as ResultRecord;
  return {
    ...r,
    experiment_id: String(i).padStart(6, '0'),
    config_name: `bs${batch}-${precision}`,
    model_name: `org/${model}`,
    cycle_id: cycle,
    batch_size: batch,
    precision,
    energy_per_token_j: 0.01 * batch + cycle * 0.001 + (model === 'b' ? 0.05 : 0),
    throughput_tokens_per_s: 100 * batch,
    energy_estimated: true,
  };
}

// 2 models × 3 batch sizes × 2 cycles = 12 experiments; bs 1 and 2 in fp32, bs 4 in bf16.
const rows: ResultRecord[] = [];
for (const model of ['a', 'b'])
  for (const [batch, precision] of [
    [1, 'fp32'],
    [2, 'fp32'],
    [4, 'bf16'],
  ] as const)
    for (const cycle of [1, 2]) rows.push(row(rows.length + 1, model, batch, precision, cycle));

describe('joules report HTML', () => {
  it('is self-contained: no external script or stylesheet', () => {
    const html = renderReportHtml(rows, { title: 'T', generatedAt: 'now', source: 'results' });
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
    expect(html).toContain('12 experiment(s)');
    const table = html.slice(html.indexOf('<table>'), html.indexOf('</table>'));
    expect(table.match(/<tr>/g)).toHaveLength(13); // header + 12 rows
  });

  it.skipIf(!hasChromium)(
    'renders every chart with the right number of marks in headless Chromium',
    { timeout: 60_000 },
    async () => {
      const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'joules-report-')), 'report.html');
      await writeFile(file, renderReportHtml(rows, { title: 'Report', generatedAt: 'now', source: 'results' }));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(pathToFileURL(file).href);
        await page.evaluate(() =>
          (globalThis as unknown as { joulesReport: Promise<unknown> }).joulesReport.then(() => true),
        );
        const count = (sel: string) => page.locator(sel).count();
        // one point per (model, batch size) on the lines
        expect(await count('#energy-per-token-vs-batch svg .mark-symbol.role-mark path')).toBe(6);
        expect(await count('#energy-per-token-vs-batch svg .mark-line.role-mark path')).toBe(2);
        // one bar per (precision, model)
        expect(await count('#throughput-vs-precision svg .mark-rect.role-mark path')).toBe(4);
        // every experiment on the spread chart
        expect(await count('#cycle-spread svg .mark-symbol.role-mark path')).toBe(12);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
