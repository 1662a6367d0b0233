import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configHash, parseExperiment } from '@joules/config';
import type { Launcher, LaunchJob, LaunchOutcome } from '@joules/launcher';
import { cycleStatistics, parseResultRecord } from '@joules/metrics';
import { verifyResults } from '@joules/tracker';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { RunConfigError } from './errors.js';
import { runExperiment } from './run-experiment.js';
import { runSuite } from './suite/run-suite.js';

// A real worker's 2-rank output on a faked NVML GPU (rank files and their timeseries files).
const FAKE_GPU = fileURLToPath(new URL('../../../contract/fixtures/raw-2rank-fake-gpu/', import.meta.url));
const made: string[] = [];
const tmp = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-runner-records-'));
  made.push(dir);
  return dir;
};
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

/**
 * A launcher standing in for a GPU that runs out of memory above batch size 2 (a fault this
 * machine cannot cause): it fails with kind oom, or leaves the fixture worker's files.
 */
const oomAbove2: Launcher = {
  name: 'oom-above-2',
  async launch(job: LaunchJob): Promise<LaunchOutcome> {
    if (job.experiment.batch_size > 2) {
      return {
        status: 'failed',
        kind: 'oom',
        message: 'CUDA out of memory',
        exitCode: 5,
        signal: null,
        errors: [],
        durationMs: 1,
        command: [],
      };
    }
    await mkdir(job.outputDir, { recursive: true });
    for (const name of await readdir(FAKE_GPU))
      await copyFile(path.join(FAKE_GPU, name), path.join(job.outputDir, name));
    return {
      status: 'succeeded',
      rankFiles: [0, 1].map((r) => path.join(job.outputDir, `rank-${r}.json`)),
      exitCode: 0,
      durationMs: 1,
      command: [],
    };
  },
};

const experimentFile = async (dir: string, batchSize: number, extra = '') => {
  const file = path.join(dir, `b${batchSize}.yaml`);
  await writeFile(
    file,
    `config_name: b${batchSize}\nmodel_name: org/model\nnum_processes: 2\nbatch_size: ${batchSize}\nretry: { backoff_base_s: 0 }\n${extra}`,
  );
  return file;
};

const rowsOf = async (results: string) =>
  (
    parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[]
  ).map((r) => parseResultRecord(r));

describe('what ran is recorded', () => {
  it('a success after OOM halving keeps its planned hash and records the effective one; cycle statistics keep them apart', async () => {
    const dir = await tmp();
    const results = path.join(dir, 'results');
    const halved = await runExperiment({
      config: await experimentFile(dir, 8),
      resultsDir: results,
      launcher: oomAbove2,
    });
    expect(halved).toMatchObject({ status: 'succeeded', ran: { batch_size: 2 } });
    const planned = await runExperiment({
      config: await experimentFile(dir, 2),
      resultsDir: results,
      launcher: oomAbove2,
    });
    expect(planned.status).toBe('succeeded');

    const [a, b] = await rowsOf(results);
    const exp = (batch_size: number) =>
      parseExperiment({
        config_name: `b${batch_size}`,
        model_name: 'org/model',
        num_processes: 2,
        batch_size,
        retry: { backoff_base_s: 0 },
      }).config!;
    expect(a).toMatchObject({ config_name: 'b8', batch_size: 2, config_hash: configHash(exp(8)) });
    expect(a!.effective_config_hash).not.toBe(a!.config_hash);
    expect(b).toMatchObject({
      config_name: 'b2',
      config_hash: configHash(exp(2)),
      effective_config_hash: configHash(exp(2)),
    });
    // The halved run and the run planned at 2 ran the same configuration (names aside); the planned 8 never ran.
    expect(a!.effective_config_hash).toBe(configHash({ ...exp(8), batch_size: 2 }));
    const groups = cycleStatistics([a!, b!], { metrics: ['energy_total_j'] });
    expect(groups.map((g) => [g.effective_config_hash, g.config_hashes.length, g.n])).toEqual(
      [
        [a!.effective_config_hash, 1, 1],
        [b!.effective_config_hash, 1, 1],
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );

    // The worker's timeseries files came along, under their documented names, in the manifest.
    const folder = path.join(results, 'raw_results', halved.status === 'succeeded' ? halved.experimentId : '');
    expect(await readdir(folder)).toEqual(
      expect.arrayContaining(['000001_timeseries_rank_0.jsonl', '000001_timeseries_rank_1.jsonl']),
    );
    expect(await verifyResults(results, { hashes: true })).toMatchObject({ ok: 2, problems: [] });
  });
});

describe('parallel jobs with a host-level energy backend', () => {
  const suite = async (dir: string, energy: string) => {
    const file = path.join(dir, 'suite.yaml');
    await writeFile(
      file,
      `name: shared\nmodels: [org/model]\nbase:\n  energy: ${energy}\n  retry: { backoff_base_s: 0 }\nscenarios:\n  a: {}\n  b: { batch_size: 2 }\n`,
    );
    return file;
  };

  it('--max-parallel 2 with codecarbon is refused before anything runs, naming the flag, the backend and the opt-in', async () => {
    const dir = await tmp();
    const run = runSuite({
      suite: await suite(dir, '{ backend: codecarbon }'),
      resultsDir: path.join(dir, 'results'),
      maxParallel: 2,
      launcher: oomAbove2,
    });
    await expect(run).rejects.toBeInstanceOf(RunConfigError);
    await expect(
      runSuite({
        suite: await suite(dir, '{ backend: codecarbon }'),
        resultsDir: path.join(dir, 'results'),
        maxParallel: 2,
        launcher: oomAbove2,
      }),
    ).rejects.toThrow(/--max-parallel 2 with energy\.backend codecarbon: .*energy\.allow_shared_host: true/);
    await expect(
      runSuite({
        suite: await suite(dir, '{ backend: rapl, allow_shared_host: true, idle_baseline_s: 2 }'),
        resultsDir: path.join(dir, 'results'),
        maxParallel: 2,
        launcher: oomAbove2,
      }),
    ).rejects.toThrow(/idle_baseline_s 2 with energy\.allow_shared_host and --max-parallel 2/);
    expect(await readdir(dir)).toEqual(['suite.yaml']); // no results folder: nothing ran
  });

  it('allowed with energy.allow_shared_host: the rows say energy_host_shared=true; alone they say false', async () => {
    const dir = await tmp();
    const shared = await runSuite({
      suite: await suite(dir, '{ backend: codecarbon, allow_shared_host: true }'),
      resultsDir: path.join(dir, 'shared'),
      maxParallel: 2,
      launcher: oomAbove2,
    });
    expect(shared.done).toBe(2);
    expect((await rowsOf(path.join(dir, 'shared'))).map((r) => r.energy_host_shared)).toEqual([true, true]);
    const serial = await runSuite({
      suite: await suite(dir, '{ backend: codecarbon, allow_shared_host: true }'),
      resultsDir: path.join(dir, 'serial'),
      maxParallel: 1,
      launcher: oomAbove2,
    });
    expect(serial.done).toBe(2);
    expect((await rowsOf(path.join(dir, 'serial'))).map((r) => r.energy_host_shared)).toEqual([false, false]);
  });
});
