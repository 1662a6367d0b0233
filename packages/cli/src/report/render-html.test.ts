import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { csvLine, resultsLayout } from '@joules/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../commands/report.js';
import { captureOutput } from '../output.js';
import { CHROMIUM, hasChromium, marksPerChart, openReport } from './__fixtures__/report-page.js';

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
    config_hash: `h-${model}-${batch}`,
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

let dir: string;
let file: string;
let html: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-report-'));
  const results = path.join(dir, 'results');
  await mkdir(results);
  await writeFile(
    resultsLayout(results).resultsCsv('text_generation'),
    [csvLine(RESULT_COLUMNS), ...rows.map((r) => csvLine(RESULT_COLUMNS.map((c) => r[c])))].join(''),
  );
  const output = captureOutput();
  expect(await report({ cwd: dir, out: 'report.html', title: 'Report' }, output)).toBe(0);
  file = path.join(dir, 'report.html');
  expect(output.stdout).toEqual([file]);
  html = await readFile(file, 'utf8');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('joules report HTML (a small study)', () => {
  it('is self-contained, lists every experiment and links the raw rows beside it', () => {
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
    expect(html).toContain('12 experiment(s) in 6 configuration(s) of 2 model(s)');
    expect(html).toContain('12 of 12 experiment(s) have ESTIMATED energy');
    const every = html.slice(html.indexOf('<h2 id="every-experiment">'));
    const table = every.slice(every.indexOf('<table>'), every.indexOf('</table>'));
    expect(table.match(/<tr>/g)).toHaveLength(13); // header + 12 rows
    expect(html).toContain('href="report.rows.parquet"');
    expect(existsSync(path.join(dir, 'report.rows.parquet'))).toBe(true);
  });

  it('says there is nothing to report for an empty results folder', async () => {
    const output = captureOutput();
    expect(await report({ cwd: dir, resultsDir: 'none', out: 'empty.html' }, output)).toBe(1);
    expect(output.stderr.join('\n')).toMatch(/no results/);
    expect(existsSync(path.join(dir, 'empty.html'))).toBe(false);
  });

  it.skipIf(!hasChromium)(
    'renders every chart with the right number of marks in headless Chromium',
    { timeout: 60_000 },
    async () => {
      const { page, close, errors } = await openReport(file);
      try {
        const count = (sel: string) => page.locator(sel).count();
        // J/token and throughput panels: one point per (model, batch size), one line per model
        expect(await count('#factor-batch_size svg .mark-symbol.role-mark path')).toBe(12);
        expect(await count('#factor-batch_size svg .mark-line.role-mark path')).toBe(4);
        // one point and one CI rule per (precision, model) in each panel
        expect(await count('#factor-precision svg .mark-symbol.role-mark path')).toBe(8);
        expect(await count('#factor-precision svg .mark-rule.role-mark line')).toBe(8);
        // one cell per (batch size, precision) that ran, one panel per model
        expect(await count('#factor-grid svg .mark-rect.role-mark path')).toBe(6);
        // every configuration ranked, every experiment on the spread chart
        expect(await count('#best-configurations svg .mark-symbol.role-mark path')).toBe(6);
        expect(await count('#cycle-spread svg .mark-symbol.role-mark path')).toBe(12);
        // the configurations table: one page of 6
        expect(await count('#configs tbody tr')).toBe(6);
        expect(await page.locator('#configs-page').textContent()).toBe('page 1 of 1 (6 of 6 configurations)');
        const marks = await marksPerChart(page);
        expect(Object.keys(marks)).toEqual([
          'factor-batch_size',
          'factor-precision',
          'factor-model_name',
          'factor-grid',
          'energy-per-token-distribution',
          'pareto',
          'best-configurations',
          'cycle-spread',
        ]);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});
