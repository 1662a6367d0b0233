import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSample, RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { csvLine, resultsLayout } from '@joules/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../commands/report.js';
import { captureOutput } from '../output.js';
import { chartData, hasChromium, marksPerChart, openReport } from './__fixtures__/report-page.js';

// A serving sweep as `joules suite` writes it: 2 server settings (max_num_seqs 4 and 16) × closed-loop
// concurrency 1..32 × 2 cycles, engine "server". batch_size is 8 in every row (a setting the server
// never used): the report must not chart it. Throughput grows with load until the server's batch
// is full, then falls a little; TTFT queues past it; energy per request falls with load then rises.
const SETTINGS = [4, 16];
const LOADS = [1, 2, 4, 8, 16, 32];

function row(i: number, seqs: number, c: number, cycle: number): ResultRecord {
  const r = Object.fromEntries(RESULT_COLUMNS.map((k) => [k, null])) as ResultRecord;
  const busy = Math.min(c, seqs);
  const wobble = 1 + (cycle === 1 ? -0.03 : 0.03);
  const tps = 38 * busy * (1 - 0.015 * Math.max(0, c - seqs)) * wobble;
  const ttft = (0.04 + 0.006 * busy + 0.09 * Math.max(0, c / seqs - 1)) * wobble;
  const tpot = (0.02 + 0.0015 * busy) * wobble;
  const perRequest = (55 / busy + 4 + 0.4 * Math.max(0, c - seqs)) * (2 - wobble);
  return {
    ...r,
    experiment_id: String(i).padStart(6, '0'),
    config_name: `server.max_num_seqs-${seqs}__load.concurrency-${c}`,
    model_name: 'org/tiny-llama',
    suite: 'serving-sweep',
    cycle_id: cycle,
    task_type: 'text_generation',
    num_processes: 1,
    batch_size: 8,
    precision: 'bf16',
    engine: 'server',
    load_pattern: 'closed_loop',
    load_concurrency: c,
    throughput_tokens_per_s: tps,
    energy_per_token_j: perRequest / 16,
    energy_total_j: perRequest * 64,
    latency_mean_s: ttft + 16 * tpot,
    serving_requests: 64,
    serving_errors: 0,
    serving_output_tokens_per_s: tps,
    serving_requests_per_s: tps / 16,
    serving_ttft_p90_s: ttft,
    serving_tpot_p90_s: tpot,
    serving_energy_per_request_j: perRequest,
    serving_goodput_share: 1,
    energy_backend: 'codecarbon',
    energy_estimated: true,
    config_hash: `h-${seqs}-${c}`,
  };
}

const rows: ResultRecord[] = [];
for (const seqs of SETTINGS)
  for (const c of LOADS) for (const cycle of [1, 2]) rows.push(row(rows.length + 1, seqs, c, cycle));

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-report-serving-'));
  const results = path.join(dir, 'results');
  await mkdir(results);
  await writeFile(
    resultsLayout(results).resultsCsv('text_generation'),
    [csvLine(RESULT_COLUMNS), ...rows.map((r) => csvLine(RESULT_COLUMNS.map((c) => r[c])))].join(''),
  );
  expect(await report({ cwd: dir, out: 'report.html', title: 'Serving sweep' }, captureOutput())).toBe(0);
  file = path.join(dir, 'report.html');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** The rows of one configuration. */
const of = (seqs: number, c: number) =>
  rows.filter((r) => r.config_name === `server.max_num_seqs-${seqs}__load.concurrency-${c}`);
const values = (rs: ResultRecord[], col: keyof ResultRecord, scale = 1) => rs.map((r) => (r[col] as number) * scale);

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
    'draws the throughput–latency curves with the saturation point and the Pareto fronts, with intervals',
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
        // Drawn: a point per configuration in each panel, a CI rule on each axis, a front line per setting.
        const count = (sel: string) => page.locator(sel).count();
        expect(await count('#serving-throughput-latency svg .mark-line.role-mark path')).toBe(4);
        expect(await count('#serving-pareto svg .mark-line.role-mark path')).toBe(4);
        expect(await count('#serving-pareto svg .mark-rule.role-mark line')).toBe(48);
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
