import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSample, type ResultRecord } from '@joules/metrics';
import { LOADS, SETTINGS, servingConfig, servingRows, writeServingRows } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../commands/report.js';
import { captureOutput } from '../output.js';
import { chartData, hasChromium, marksPerChart, openReport } from './__fixtures__/report-page.js';

// A serving sweep as `joules suite` writes it (@joules/test-utils servingRows): 2 server settings ×
// closed-loop concurrency 1..32 × 2 cycles, engine "server". batch_size is 8 in every row (a setting
// the server never used): the report must not chart it.
const rows: ResultRecord[] = servingRows([1, 2]);

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-report-serving-'));
  const results = path.join(dir, 'results');
  await mkdir(results);
  await writeServingRows(results, rows);
  expect(await report({ cwd: dir, out: 'report.html', title: 'Serving sweep' }, captureOutput())).toBe(0);
  file = path.join(dir, 'report.html');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** The rows of one configuration. */
const of = (seqs: number, c: number) =>
  rows.filter((r) => r.config_name === `server.max_num_seqs-${seqs}__load.concurrency-${c}`);
const values = (rs: ResultRecord[], col: keyof ResultRecord, scale = 1) => rs.map((r) => (r[col] as number) * scale);

/** Reference answer: the least mean J/request among the configurations whose mean goodput share is ≥ 0.95. */
function referenceChosen(): string {
  const met = SETTINGS.flatMap((seqs) => LOADS.map((c) => of(seqs, c))).filter(
    (rs) => describeSample(values(rs, 'serving_goodput_share')).mean! >= 0.95,
  );
  const epr = (rs: ResultRecord[]) => describeSample(values(rs, 'serving_energy_per_request_j')).mean!;
  return String(met.reduce((a, b) => (epr(b) < epr(a) ? b : a))[0]!.config_name);
}

/** Reference front: the configurations of a setting no other of it beats on both latency and J/request. */
function referenceFront(seqs: number, latency: 'serving_ttft_p90_s' | 'serving_tpot_p90_s'): number[] {
  const means = LOADS.map((c) => ({
    c,
    x: describeSample(values(of(seqs, c), latency)).mean!,
    y: describeSample(values(of(seqs, c), 'serving_energy_per_request_j')).mean!,
  }));
  return means
    .filter((p) => !means.some((q) => q !== p && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y)))
    .map((p) => p.c);
}

describe('joules report of a serving sweep', () => {
  it('charts what the sweep varied: load, not the batch size the server never used', async () => {
    const html = await readFile(file, 'utf8');
    expect(html).toContain('24 experiment(s) in 12 configuration(s) of 1 model(s)');
    expect(html).toContain('id="serving-throughput-latency"');
    expect(html).toContain('id="serving-pareto"');
    expect(html).not.toContain('id="factor-batch_size"');
  });

  it.skipIf(!hasChromium)(
    'draws the throughput–latency curves with the saturation point and the Pareto fronts with the chosen point, with intervals',
    { timeout: 60_000 },
    async () => {
      const { page, errors, close } = await openReport(file);
      try {
        const marks = await marksPerChart(page);
        expect(Object.keys(marks).slice(0, 3)).toEqual([
          'factor-load_concurrency',
          'serving-throughput-latency',
          'serving-pareto',
        ]);
        for (const [id, n] of Object.entries(marks)) expect(n, id).toBeLessThanOrEqual(500);
        const points = await chartData(page, 'serving-throughput-latency', 'serving-throughput-latency');
        expect(points).toHaveLength(12);
        for (const seqs of SETTINGS) {
          const series = points.filter((p) => p.series === `tiny-llama · server.max_num_seqs-${seqs}`);
          expect(series.map((p) => p.load)).toEqual(LOADS);
          // Each figure is the mean over cycles with its 95 % CI (Student t), TTFT in ms.
          for (const p of series) {
            const tps = describeSample(values(of(seqs, p.load as number), 'serving_output_tokens_per_s'));
            const ttft = describeSample(values(of(seqs, p.load as number), 'serving_ttft_p90_s', 1000));
            expect(p.n).toBe(2);
            expect(p.tps as number).toBeCloseTo(tps.mean!, 1);
            expect(Math.abs((p.tps_low as number) / tps.ci95_low! - 1)).toBeLessThan(1e-3);
            expect(Math.abs((p.tps_high as number) / tps.ci95_high! - 1)).toBeLessThan(1e-3);
            expect(Math.abs((p.ttft_high as number) / ttft.ci95_high! - 1)).toBeLessThan(1e-3);
          }
          // Saturation: the load of peak throughput (the server's batch full).
          expect(series.filter((p) => p.saturation).map((p) => p.load)).toEqual([seqs]);
          for (const [latency, flag] of [
            ['serving_ttft_p90_s', 'front_ttft'],
            ['serving_tpot_p90_s', 'front_tpot'],
          ] as const)
            expect(series.filter((p) => p[flag]).map((p) => p.load)).toEqual(referenceFront(seqs, latency));
        }
        // The chosen point: one, the least J/request that met the SLO (the global least, 16 seqs at 16
        // users, misses it: its goodput share is under 0.95).
        const chosen = points.filter((p) => p.chosen).map((p) => p.config);
        expect(chosen).toEqual([referenceChosen()]);
        expect(chosen).toEqual([servingConfig(16, 8)]);
        // Drawn: a point per configuration in each panel, a CI rule on each axis, a front line per setting.
        const count = (sel: string) => page.locator(sel).count();
        expect(await count('#serving-throughput-latency svg .mark-line.role-mark path')).toBe(4);
        expect(await count('#serving-pareto svg .mark-line.role-mark path')).toBe(4);
        expect(await count('#serving-pareto svg .mark-rule.role-mark line')).toBe(48);
        // The chosen ring and its label in each panel.
        expect(await page.locator('#serving-pareto svg .mark-text.role-mark text').allTextContents()).toEqual([
          'chosen',
          'chosen',
        ]);
        await page.locator('#serving-throughput-latency').screenshot({ path: path.join(dir, 'throughput.png') });
        await page.locator('#serving-pareto').screenshot({ path: path.join(dir, 'pareto.png') });
        if (process.env.JOULES_REPORT_SCREENSHOTS)
          for (const name of ['throughput.png', 'pareto.png'])
            await writeFile(
              path.join(process.env.JOULES_REPORT_SCREENSHOTS, `serving-${name}`),
              await readFile(path.join(dir, name)),
            );
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});
