import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment } from '@joules/config';
import { aggregateRanks, deriveMetrics, type RawMeasurement, RawMeasurementSchema } from '@joules/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultsFileError, TrackerInputError } from '../errors.js';
import { resultsLayout } from '../layout.js';
import { withResultsDb } from '../query/results-db.js';
import { recordExperiment } from '../record-experiment.js';
import { commitExperiment } from './commit.js';
import { checkExperimentFolder, type Manifest, sha256 } from './manifest.js';
import { collectSideFiles, SIDE_FILE_NAMES } from './side-files.js';
import { verifyResults } from './verify.js';

// A real worker's output folder: two ranks on a faked NVML GPU, each with its timeseries file.
const FAKE_GPU = fileURLToPath(new URL('../../../../contract/fixtures/raw-2rank-fake-gpu/', import.meta.url));
const made: string[] = [];
const tmp = async (prefix = 'joules-side-') => {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

async function workFolder(tokenIds: boolean): Promise<{ dir: string; ranks: RawMeasurement[] }> {
  const dir = await tmp('joules-side-work-');
  for (const name of await readdir(FAKE_GPU)) await copyFile(path.join(FAKE_GPU, name), path.join(dir, name));
  const ranks = [0, 1].map((r) =>
    RawMeasurementSchema.parse(JSON.parse(readFileSync(path.join(dir, `rank-${r}.json`), 'utf8'))),
  );
  if (tokenIds) {
    await writeFile(
      path.join(dir, 'token-ids-rank-0.jsonl'),
      '{"prompt": "a b", "token_ids": [5, 6, 2]}\n{"prompt": "c", "token_ids": [7]}\n',
    );
    await writeFile(path.join(dir, 'token-ids-rank-1.jsonl'), '{"prompt": "d", "token_ids": [8, 9]}\n');
  }
  return { dir, ranks };
}

const experiment = (saveTokenIds: boolean) => {
  const r = parseExperiment({
    config_name: 'side',
    model_name: 'org/model',
    num_processes: 2,
    save_token_ids: saveTokenIds,
  });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
};

const run = (ranks: RawMeasurement[], saveTokenIds: boolean, workDir?: string) => {
  const totals = aggregateRanks(ranks);
  return {
    experimentId: '000001',
    experiment: experiment(saveTokenIds),
    configHash: 'abc',
    launcher: 'accelerate',
    startedAt: '2026-12-01T00:00:00Z',
    finishedAt: '2026-12-01T00:01:00Z',
    ranks,
    totals,
    metrics: deriveMetrics(totals),
    ...(workDir !== undefined && { workDir }),
  };
};

describe('side files reach the results folder', () => {
  it('timeseries and token ids: documented names, in the manifest, verified, queryable', async () => {
    const { dir: work, ranks } = await workFolder(true);
    const results = await tmp();
    const recorded = await recordExperiment(results, run(ranks, true, work));
    const folder = resultsLayout(results).experimentDir('000001');
    const names = await readdir(folder);
    expect(names).toEqual(
      expect.arrayContaining([
        '000001_timeseries_rank_0.jsonl',
        '000001_timeseries_rank_1.jsonl',
        '000001_8_token_output.json',
      ]),
    );

    const manifest = JSON.parse(await readFile(recorded.manifestFile, 'utf8')) as Manifest;
    const entry = manifest.files.find((f) => f.name === '000001_timeseries_rank_1.jsonl')!;
    const original = await readFile(path.join(work, 'timeseries-rank-1.jsonl'));
    expect(entry).toEqual({ name: '000001_timeseries_rank_1.jsonl', bytes: original.length, sha256: sha256(original) });
    expect(manifest.files.map((f) => f.name)).toContain('000001_8_token_output.json');
    expect(await verifyResults(results, { hashes: true })).toEqual({ ok: 1, legacy: [], problems: [] });

    const tokens = JSON.parse(await readFile(path.join(folder, '000001_8_token_output.json'), 'utf8'));
    expect(tokens).toEqual({
      experiment_id: '000001',
      outputs: [
        { rank: 0, prompt: 'a b', token_ids: [5, 6, 2] },
        { rank: 0, prompt: 'c', token_ids: [7] },
        { rank: 1, prompt: 'd', token_ids: [8, 9] },
      ],
    });
    // The local energy document names the copy in this folder; the raw rank keeps the worker's name.
    const local = JSON.parse(await readFile(path.join(folder, '000001_6_local_energy_results_process_0.json'), 'utf8'));
    expect(local.timeseries_file).toBe('000001_timeseries_rank_0.jsonl');
    const global = JSON.parse(await readFile(path.join(folder, '000001_7_global_energy_results.json'), 'utf8'));
    expect(global).toMatchObject({ energy_complete: true, missing_readings: [] });
    const raw = JSON.parse(await readFile(path.join(folder, '000001_raw_rank_0.json'), 'utf8'));
    expect(raw.energy.timeseries_file).toBe('timeseries-rank-0.jsonl');

    const lines = original.toString('utf8').trim().split('\n').length;
    await withResultsDb(results, async (db) => {
      expect(db.views).toEqual(expect.arrayContaining(['timeseries', 'token_output']));
      const perRank = await db.query(
        'SELECT folder_id, rank, count(*)::INTEGER AS n, min(power_w) AS p FROM timeseries GROUP BY ALL ORDER BY rank',
      );
      expect(perRank).toHaveLength(2);
      expect(perRank[1]).toEqual({ folder_id: '000001', rank: 1, n: lines, p: 180 });
      const ids = await db.query('SELECT folder_id, len(outputs) AS n FROM token_output');
      expect(ids).toEqual([{ folder_id: '000001', n: 3 }]);
    });
  });

  it('a named timeseries file or promised token ids that are missing fail loudly, before anything is written', async () => {
    const { dir: work, ranks } = await workFolder(false);
    const results = await tmp();
    await expect(recordExperiment(results, run(ranks, true, work))).rejects.toThrow(
      /token-ids-rank-0\.jsonl: missing \(save_token_ids is on\)/,
    );
    await rm(path.join(work, 'timeseries-rank-1.jsonl'));
    await expect(recordExperiment(results, run(ranks, false, work))).rejects.toThrow(
      /timeseries-rank-1\.jsonl: missing \(rank 1's energy.timeseries_file\)/,
    );
    await expect(recordExperiment(results, run(ranks, false))).rejects.toThrow(TrackerInputError);
    await expect(recordExperiment(results, run(ranks, false))).rejects.toThrow(
      /workDir: required .*rank 0 names timeseries-rank-0\.jsonl/,
    );
    expect(await readdir(results)).toEqual([]);
  });

  it('a token-ids line that is not JSON names its file and line', async () => {
    const { dir: work, ranks } = await workFolder(true);
    await writeFile(path.join(work, 'token-ids-rank-1.jsonl'), '{"prompt": "d", "token_ids": [8]}\n{"cut');
    await expect(collectSideFiles('000001', work, ranks, true)).rejects.toThrow(/token-ids-rank-1\.jsonl:2: not JSON/);
  });

  it('commitExperiment copies files byte for byte; the manifest check catches a changed copy', async () => {
    const results = await tmp();
    const src = path.join(await tmp(), 'samples.jsonl');
    await writeFile(src, '{"t": 1, "power_w": 100}\n{"t": 2, "power_w": 101}\n');
    await commitExperiment(results, {
      experimentId: '000001',
      documents: { a: { x: 1 } },
      files: [{ name: 'timeseries_rank_0.jsonl', source: src }],
      csvFile: path.join(results, 'x_results.csv'),
      columns: ['experiment_id'],
      row: ['000001'],
    });
    const copy = path.join(resultsLayout(results).experimentDir('000001'), '000001_timeseries_rank_0.jsonl');
    expect(await readFile(copy, 'utf8')).toBe(await readFile(src, 'utf8'));
    expect((await checkExperimentFolder(resultsLayout(results).experimentDir('000001'), { hashes: true })).ok).toBe(
      true,
    );
    await writeFile(copy, '{"t": 1, "power_w": 900}\n{"t": 2, "power_w": 101}\n');
    expect(await checkExperimentFolder(resultsLayout(results).experimentDir('000001'), { hashes: true })).toEqual({
      ok: false,
      problem: 'hash-mismatch',
      file: '000001_timeseries_rank_0.jsonl',
    });
    const missing = commitExperiment(results, {
      experimentId: '000002',
      documents: {},
      files: [{ name: 'timeseries_rank_0.jsonl', source: `${src}.gone` }],
      csvFile: path.join(results, 'x_results.csv'),
      columns: ['experiment_id'],
      row: ['000002'],
    });
    await expect(missing).rejects.toBeInstanceOf(ResultsFileError);
    expect(await readdir(resultsLayout(results).rawDir)).toEqual(['000001']);
    expect(await readdir(resultsLayout(results).stagingDir)).toEqual([]);
    await expect(
      commitExperiment(results, {
        experimentId: '000003',
        documents: { a: {} },
        files: [{ name: 'a.json', source: src }],
        csvFile: path.join(results, 'x_results.csv'),
        columns: ['experiment_id'],
        row: ['000003'],
      }),
    ).rejects.toThrow(/files: "a.json" is given twice/);
  });
});

describe('engine "server" side files', () => {
  it('copies the requests file as 9_requests.jsonl and the load summary as 9_serving; either missing is an error', async () => {
    const { dir, ranks } = await workFolder(false);
    await writeFile(path.join(dir, 'requests-rank-0.jsonl'), '{"index":0}\n{"index":1}\n');
    await writeFile(path.join(dir, 'serving-rank-0.json'), '{"schema_version":1,"pattern":"closed_loop"}');
    const side = await collectSideFiles('000009', dir, ranks, false, 'server');
    expect(side.files).toContainEqual({ name: '9_requests.jsonl', source: path.join(dir, 'requests-rank-0.jsonl') });
    expect(side.documents['9_serving']).toEqual({ experiment_id: '000009', schema_version: 1, pattern: 'closed_loop' });
    expect((await collectSideFiles('000009', dir, ranks, false)).files.map((f) => f.name)).not.toContain(
      '9_requests.jsonl',
    );
    await rm(path.join(dir, 'requests-rank-0.jsonl'));
    await expect(collectSideFiles('000009', dir, ranks, false, 'server')).rejects.toThrow(
      /requests-rank-0.jsonl: missing \(engine "server" writes one line per request\)/,
    );
  });
  it("copies the server's metrics as 9_server_metrics.jsonl where the worker wrote them; a server without is no error", async () => {
    const { dir, ranks } = await workFolder(false);
    await writeFile(path.join(dir, 'requests-rank-0.jsonl'), '{"index":0}\n');
    await writeFile(path.join(dir, 'serving-rank-0.json'), '{"schema_version":1}');
    const names = async () => (await collectSideFiles('000009', dir, ranks, false, 'server')).files.map((f) => f.name);
    expect(await names()).not.toContain('9_server_metrics.jsonl');
    await writeFile(path.join(dir, 'server-metrics-rank-0.jsonl'), '{"t_unix_s":1,"running":2}\n');
    expect(await names()).toContain(SIDE_FILE_NAMES.serverMetrics);
    expect(SIDE_FILE_NAMES.serverMetrics).toBe('9_server_metrics.jsonl');
  });
});
