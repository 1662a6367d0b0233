import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { csvLine, resultsLayout } from '@joules/tracker';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../output.js';
import { results } from './results.js';

// Configuration "five" ran 5 cycles with J/token 1, 2, 3, 4, 5: mean 3, s = √2.5, and by hand
// (Student t, 4 degrees of freedom, t_0.975,4 = 2.776445) the 95 % half-width is
// 2.776445 · √2.5 / √5 = 1.963243, the interval [1.036757, 4.963243]. "one" ran a single cycle: no interval.
const HALF = 1.963243;

function row(i: number, config: string, cycle: number, perToken: number): ResultRecord {
  const r = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, null])) as ResultRecord;
  return {
    ...r,
    experiment_id: String(i).padStart(6, '0'),
    config_name: config,
    model_name: 'org/m',
    cycle_id: cycle,
    batch_size: 1,
    precision: 'fp32',
    energy_per_token_j: perToken,
    throughput_tokens_per_s: 100,
    config_hash: `h-${config}`,
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-results-summary-'));
  const rows = [1, 2, 3, 4, 5].map((v, i) => row(i + 1, 'five', i + 1, v));
  rows.push(row(6, 'one', 1, 0.5));
  await writeFile(
    resultsLayout(dir).resultsCsv('text_generation'),
    [csvLine(RESULT_COLUMNS), ...rows.map((r) => csvLine(RESULT_COLUMNS.map((c) => r[c])))].join(''),
  );
});

describe('joules results --summary', () => {
  it('gives each configuration its mean and 95 % CI over cycles, as a hand computation with t(0.975, 4) = 2.776', async () => {
    const output = captureOutput();
    expect(await results({ resultsDir: dir, summary: true, format: 'json' }, output)).toBe(0);
    const [five, one] = output.stdout
      .join('\n')
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(five).toMatchObject({ model_name: 'org/m', config_name: 'five', n: 5, energy_per_token_j_mean: 3 });
    expect(five.energy_per_token_j_ci95_half_width).toBeCloseTo(HALF, 5);
    expect(five.energy_per_token_j_ci95_low).toBeCloseTo(3 - HALF, 5);
    expect(five.energy_per_token_j_ci95_high).toBeCloseTo(3 + HALF, 5);
    // With the rounded t = 2.776 of a printed table, the same to 3 decimals.
    expect(Math.abs(five.energy_per_token_j_ci95_half_width - (2.776 * Math.sqrt(2.5)) / Math.sqrt(5))).toBeLessThan(
      1e-3,
    );
    expect(five.throughput_tokens_per_s_ci95_half_width).toBe(0);
    expect(one).toMatchObject({ config_name: 'one', n: 1, energy_per_token_j_mean: 0.5 });
    expect(one.energy_per_token_j_ci95_low).toBeNull();
    expect(Object.keys(five)).not.toContain('serving_ttft_p90_s_mean'); // no serving rows, no serving figures
    expect(output.stderr.join('\n')).toMatch(/95 % CI of the mean \(Student t/);
  });

  it('the table shows mean ± half-width; --sql and parquet are refused', async () => {
    const output = captureOutput();
    expect(await results({ resultsDir: dir, summary: true }, output)).toBe(0);
    const lines = output.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^model_name +config_name +n +energy_per_token_j +throughput_tokens_per_s/);
    expect(lines.find((l) => / five /.test(l))).toMatch(/ 3 ± 1\.963 /);
    await expect(results({ resultsDir: dir, summary: true, sql: 'SELECT 1' }, captureOutput())).rejects.toThrow(
      /choose one/,
    );
    await expect(
      results({ resultsDir: dir, summary: true, format: 'parquet', out: 'x.parquet' }, captureOutput()),
    ).rejects.toThrow(/--summary: table, csv or json/);
  });
});
