import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useFakeNvml } from '@joules/test-utils';
import { checkExperimentFolder, type Manifest, verifyResults, withResultsDb } from '@joules/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from './run-experiment.js';

// The real worker on the tiny model, on CPU, with NVML faked (useFakeNvml: one constant-power
// GPU) so the nvml backend samples a timeseries.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = path.join(root, '.joules/models/tiny-llama');
let dir = '';
let restore = () => {};
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-side-e2e-'));
  restore = await useFakeNvml(dir, [
    { uuid: 'GPU-5e1d0000-fake-4e1b-9a3d-0123456789ab', name: 'NVIDIA H200', power_w: 150, power_limit_w: 700 },
  ]);
});
afterAll(async () => {
  restore();
  await rm(dir, { recursive: true, force: true });
});

describe('nothing the worker measured is lost (slow)', () => {
  it('save_token_ids and the NVML timeseries reach raw_results/<id>/, in the manifest, verified and queryable', {
    timeout: 300_000,
  }, async () => {
    const config = path.join(dir, 'side.yaml');
    await writeFile(
      config,
      [
        'config_name: side-files',
        `model_name: ${model}`,
        'num_input_prompts: 4',
        'max_input_tokens: 32',
        'max_output_tokens: 6',
        'min_output_tokens: 6',
        'batch_size: 2',
        'warmup_iterations: 0',
        'gpu_ids: [0]',
        'save_token_ids: true',
        'energy: { backend: nvml, measure_power_secs: 0.05 }',
        'launch: { launcher: python }',
        '',
      ].join('\n'),
    );
    const results = path.join(dir, 'results');
    const outcome = await runExperiment({ config, resultsDir: results });
    if (outcome.status !== 'succeeded') {
      const log = 'logFile' in outcome ? await readFile(outcome.logFile, 'utf8').catch(() => '') : '';
      throw new Error(`run ${outcome.status}: ${JSON.stringify(outcome)}\n${log.slice(-4000)}`);
    }
    const id = outcome.experimentId;
    const folder = path.join(results, 'raw_results', id);
    const names = await readdir(folder);
    expect(names).toEqual(
      expect.arrayContaining([`${id}_8_token_output.json`, `${id}_timeseries_rank_0.jsonl`, 'manifest.json']),
    );
    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.files.map((f) => f.name)).toEqual(
      expect.arrayContaining([`${id}_8_token_output.json`, `${id}_timeseries_rank_0.jsonl`]),
    );
    expect(await checkExperimentFolder(folder, { hashes: true })).toMatchObject({ ok: true });
    expect(await verifyResults(results, { hashes: true })).toEqual({ ok: 1, legacy: [], problems: [] });

    const tokens = JSON.parse(await readFile(path.join(folder, `${id}_8_token_output.json`), 'utf8')) as {
      outputs: { rank: number; prompt: string; token_ids: number[] }[];
    };
    expect(tokens.outputs).toHaveLength(4);
    for (const o of tokens.outputs) expect(o.token_ids.length).toBeGreaterThan(0);
    const samples = (await readFile(path.join(folder, `${id}_timeseries_rank_0.jsonl`), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { power_w: number });
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((s) => s.power_w === 150)).toBe(true);
    // The work folder is gone; the copies are what is left.
    await expect(readdir(path.join(results, '.joules', 'work', id))).rejects.toThrow();

    await withResultsDb(results, async (db) => {
      expect(await db.query('SELECT count(*)::INTEGER AS n, min(power_w) AS p FROM timeseries')).toEqual([
        { n: samples.length, p: 150 },
      ]);
      expect(await db.query('SELECT len(outputs)::INTEGER AS n FROM token_output')).toEqual([{ n: 4 }]);
      expect(
        await db.query('SELECT energy_complete, effective_config_hash = config_hash AS same FROM results'),
      ).toEqual([{ energy_complete: true, same: true }]);
    });
  });
});
