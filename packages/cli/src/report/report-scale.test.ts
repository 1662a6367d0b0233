import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSample } from '@joules/metrics';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { resultsLayout, withResultsDb } from '@joules/tracker';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { report } from '../commands/report.js';
import { captureOutput } from '../output.js';
import { chartData, hasChromium, marksPerChart, openReport } from './__fixtures__/report-page.js';

// The original's full study: 1,056 configurations × 4 models × 5 cycles = 21,120 experiments
// (4,224 configurations), 5 of them failed.
const EXPERIMENTS = 21_120;
const CONFIGS = 4_224;
/** Marks any chart may draw, whatever the number of experiments. */
const MAX_MARKS = 500;

let dir: string;
let file: string;
let csv: Record<string, string>[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-report-scale-'));
  const study = await writeStudyFolder(path.join(dir, 'results'), { experiments: EXPERIMENTS, failures: 5 });
  expect(study.configs).toBe(CONFIGS);
  file = path.join(dir, 'out', 'study.html');
  const output = captureOutput();
  expect(await report({ cwd: dir, out: 'out/study.html' }, output)).toBe(0);
  const text = await readFile(resultsLayout(study.dir).resultsCsv('text_generation'), 'utf8');
  csv = parse(text, { columns: true }) as Record<string, string>[];
}, 60_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

/** J/token of the CSV rows matching `where`. */
const perToken = (where: (r: Record<string, string>) => boolean) =>
  csv.filter(where).map((r) => Number(r.energy_per_token_j));

describe('joules report at 21,120 experiments', () => {
  it('is under 10 MB and links a Parquet file beside it that holds every row', async () => {
    expect((await stat(file)).size).toBeLessThan(10 * 1024 * 1024);
    const html = await readFile(file, 'utf8');
    expect(html).toContain(`${csv.length} experiment(s) in ${CONFIGS} configuration(s) of 4 model(s)`);
    expect(html).not.toContain('id="every-experiment"');
    expect(html).toContain('href="study.rows.parquet"');
    const rowsFile = path.join(dir, 'out', 'study.rows.parquet');
    const [counted] = await withResultsDb(dir, (db) =>
      db.query(`SELECT count(*) AS n, count(DISTINCT experiment_id) AS ids FROM read_parquet('${rowsFile}')`),
    );
    expect(counted).toEqual({ n: csv.length, ids: csv.length });
    expect(html).toMatch(/5 experiment\(s\) failed for good \(5 oom\)/);
  });

  it.skipIf(!hasChromium)(
    'draws every chart with bounded marks, over data that matches the CSV, and pages the configurations',
    { timeout: 60_000 },
    async () => {
      const { page, errors, close } = await openReport(file);
      try {
        const marks = await marksPerChart(page);
        expect(Object.keys(marks)).toEqual([
          'factor-batch_size',
          'factor-precision',
          'factor-num_processes',
          'factor-model_name',
          'factor-grid',
          'energy-per-token-distribution',
          'pareto',
          'cycle-spread',
          'best-configurations',
          'worst-configurations',
          'most-variable',
        ]);
        for (const [id, n] of Object.entries(marks)) {
          expect(n, id).toBeGreaterThan(0);
          expect(n, id).toBeLessThanOrEqual(MAX_MARKS);
        }
        // A factor level's mean and CI: the pooled configurations equal the experiments of the CSV.
        const levels = await chartData(page, 'factor-precision', 'factor-precision-energy');
        expect(levels).toHaveLength(5 * 4);
        for (const level of levels) {
          const values = perToken(
            (r) => r.precision === level.level && r.model_name?.endsWith(`/${level.model}`) === true,
          );
          const s = describeSample(values);
          expect(level.n).toBe(values.length);
          expect(level.mean as number).toBeCloseTo(s.mean!, 6);
          expect(Math.abs((level.low as number) / s.ci95_low! - 1)).toBeLessThan(1e-3);
          expect(Math.abs((level.high as number) / s.ci95_high! - 1)).toBeLessThan(1e-3);
        }
        // The distributions count every configuration once.
        const sum = (rows: Record<string, unknown>[]) => rows.reduce((a, r) => a + (r.count as number), 0);
        expect(sum(await chartData(page, 'energy-per-token-distribution', 'energy-per-token-distribution'))).toBe(
          CONFIGS,
        );
        expect(sum(await chartData(page, 'cycle-spread', 'cycle-spread'))).toBe(CONFIGS);
        // The best configuration is the lowest mean J/token of the CSV's configurations.
        const byConfig = new Map<string, number[]>();
        for (const r of csv) {
          const values = byConfig.get(r.config_hash!) ?? [];
          values.push(Number(r.energy_per_token_j));
          byConfig.set(r.config_hash!, values);
        }
        const lowest = Math.min(...[...byConfig.values()].map((v) => describeSample(v).mean!));
        const best = await chartData(page, 'best-configurations', 'best-configurations');
        expect(best).toHaveLength(15);
        expect(Math.abs((best[0]!.value as number) / lowest - 1)).toBeLessThan(1e-3);
        // The configurations table: 50 a page, searchable, sortable.
        const pageLabel = () => page.locator('#configs-page').textContent();
        expect(await page.locator('#configs tbody tr').count()).toBe(50);
        expect(await pageLabel()).toBe(`page 1 of 85 (${CONFIGS} of ${CONFIGS} configurations)`);
        await page.click('#configs-next');
        expect(await pageLabel()).toMatch(/^page 2 of 85/);
        await page.fill('#configs-search', 'cfg-00001');
        await expect.poll(() => page.locator('#configs tbody tr').count()).toBe(4);
        expect(await pageLabel()).toBe(`page 1 of 1 (4 of ${CONFIGS} configurations)`);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});
