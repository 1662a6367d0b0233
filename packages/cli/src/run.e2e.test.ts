import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULT_COLUMNS } from '@joules/metrics';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// Real worker, real accelerate, real tiny model: `npm test` bootstraps them first.
const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-e2e-'));

const REQUIRED = [
  'experiment_id',
  'config_name',
  'model_name',
  'suite',
  'cycle_id',
  'task_type',
  'num_processes',
  'batch_size',
  'precision',
  'num_prompts',
  'total_input_tokens',
  'total_output_tokens',
  'total_time_s',
  'throughput_tokens_per_s',
  'throughput_queries_per_s',
  'latency_mean_s',
  'latency_p50_s',
  'latency_p99_s',
  'energy_total_j',
  'energy_total_kwh',
  'energy_adjusted_j',
  'energy_per_token_j',
  'tokens_per_j',
  'flops_total',
  'flops_per_j',
  'queries_per_kwh',
  'wh_per_1k_queries',
  'peak_memory_bytes',
  'emissions_kg',
  'energy_backend',
  'energy_estimated',
  'config_hash',
];

function assertNoNonFinite(text: string, where: string) {
  expect(text, where).not.toMatch(/\bNaN\b|\bInfinity\b/);
}

describe('joules run, end to end (slow)', () => {
  it('runs 2 CPU processes through accelerate launch and records every file once', { timeout: 300_000 }, async () => {
    const results = await tmp();
    const output = captureOutput();
    const code = await runMain(['run', fixture('two-process.yaml'), '--results-dir', results, '--json'], output);
    expect(code, output.stderr.join('\n')).toBe(0);

    const summary = JSON.parse(output.stdout.at(-1)!);
    expect(summary).toMatchObject({ experiment_id: '000001', status: 'succeeded' });

    const dir = path.join(results, 'raw_results', '000001');
    const names = (await readdir(dir)).sort();
    expect(names).toEqual([
      '000001_1_experiment_setup.json',
      '000001_2_experiment_variables.json',
      '000001_3_model_architecture.json',
      '000001_4_inference_metrics.json',
      '000001_5_compute_metrics.json',
      '000001_6_local_energy_results_process_0.json',
      '000001_6_local_energy_results_process_1.json',
      '000001_7_global_energy_results.json',
      '000001_8_text_output.json',
      '000001_raw_rank_0.json',
      '000001_raw_rank_1.json',
      'manifest.json',
    ]);
    for (const n of names) assertNoNonFinite(await readFile(path.join(dir, n), 'utf8'), n);

    const setup = JSON.parse(await readFile(path.join(dir, '000001_1_experiment_setup.json'), 'utf8'));
    expect(setup.world_size).toBe(2);
    const inference = JSON.parse(await readFile(path.join(dir, '000001_4_inference_metrics.json'), 'utf8'));
    const perRank = inference.per_rank as { rank: number; tokens: { num_prompts: number; output_tokens: number } }[];
    expect(perRank.map((r) => r.rank)).toEqual([0, 1]);
    expect(perRank.reduce((s, r) => s + r.tokens.num_prompts, 0)).toBe(12);
    expect(perRank.every((r) => r.tokens.output_tokens === r.tokens.num_prompts * 8)).toBe(true);
    const text = JSON.parse(await readFile(path.join(dir, '000001_8_text_output.json'), 'utf8'));
    expect(text.outputs).toHaveLength(12);

    const energy = JSON.parse(await readFile(path.join(dir, '000001_7_global_energy_results.json'), 'utf8'));
    expect(energy.estimated).toBe(true);
    expect(energy.energy_total_j).toBeGreaterThan(0);
    // One machine-level CodeCarbon reader (local rank 0): CPU and RAM counted once, not per process.
    expect(energy.counted_readings.map((r: { scope: string }) => r.scope).sort()).toEqual(['cpu', 'ram']);

    const csvText = await readFile(path.join(results, 'text_generation_results.csv'), 'utf8');
    assertNoNonFinite(csvText, 'csv');
    const rows = parse(csvText, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(Object.keys(row)).toEqual([...RESULT_COLUMNS]);
    for (const c of REQUIRED) expect(Object.keys(row)).toContain(c);
    expect(row).toMatchObject({
      experiment_id: '000001',
      num_processes: '2',
      num_prompts: '12',
      total_output_tokens: '96',
      energy_estimated: 'true',
      energy_backend: 'codecarbon',
      suite: '',
      cycle_id: '',
    });
    expect(Number(row.energy_per_token_j) * 96).toBeCloseTo(Number(row.energy_total_j), 9);
    expect(Number(row.flops_total)).toBeGreaterThan(0);
    expect(Number(row.peak_memory_bytes)).toBeGreaterThan(0);
    // The private temp config is gone, and so is the work folder.
    expect(existsSync(path.join(results, '.joules', 'work', '000001'))).toBe(false);
  });

  it('a missing model fails with its own kind, exit 1, and a failure row', { timeout: 120_000 }, async () => {
    const results = await tmp();
    const output = captureOutput();
    const code = await runMain(['run', fixture('missing-model.yaml'), '--results-dir', results], output);
    expect(code).toBe(1);
    expect(output.stderr.join('\n')).toMatch(/failed \(model_not_found\)/);
    const failures = parse(await readFile(path.join(results, 'failed_experiments.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      experiment_id: '000001',
      kind: 'model_not_found',
      config_name: 'missing-model',
    });
    expect(existsSync(path.join(results, 'text_generation_results.csv'))).toBe(false);
  });
});
