import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendCsvRows } from '../csv-append.js';
import { ResultsQueryError } from '../errors.js';
import { recordFailure } from '../failure-log.js';
import { ProgressJournal } from '../progress/journal.js';
import { commitExperiment } from '../raw/commit.js';
import { ResultsDb, withResultsDb } from './results-db.js';

const COLUMNS = ['experiment_id', 'config_name', 'config_hash', 'energy_total_j', 'energy_estimated'];

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-db-'));
  const journal = await ProgressJournal.open(dir);
  for (const [i, config] of ['b1', 'b8'].entries()) {
    const started = await journal.start(`m::s::${config}::1`, { configHash: '0123456789' });
    const id = started.entry.experimentId!;
    await commitExperiment(dir, {
      experimentId: id,
      documents: {
        '1_experiment_setup': { experiment_id: id, config: { batch_size: i === 0 ? 1 : 8 } },
        '7_global_energy_results': { experiment_id: id, energy_total_j: 100 * (i + 1), notes: ['estimated'] },
        raw_rank_0: { rank: 0, tokens: { output: 64 } },
      },
      csvFile: path.join(dir, 'text_generation_results.csv'),
      columns: COLUMNS,
      row: [id, config, '0123456789', 100 * (i + 1), true],
    });
    await journal.finish(`m::s::${config}::1`, id, 'done');
  }
  await recordFailure(dir, {
    experimentId: '000003',
    configName: 'b64',
    modelName: 'm',
    attempt: 1,
    kind: 'oom',
    message: 'out of memory',
    config: {},
    final: true,
  });
  return dir;
}

describe('ResultsDb', () => {
  it('queries the CSV, the failure log, raw JSON and progress with SQL; rows are plain objects', async () => {
    const dir = await folder();
    await withResultsDb(dir, async (db) => {
      expect([...db.views].sort()).toEqual([
        'experiment_setup',
        'failures',
        'global_energy',
        'manifests',
        'progress',
        'raw_ranks',
        'results',
      ]);
      expect(
        await db.query(
          'SELECT experiment_id, config_hash, energy_total_j, energy_estimated FROM results ORDER BY experiment_id',
        ),
      ).toEqual([
        { experiment_id: '000001', config_hash: '0123456789', energy_total_j: 100, energy_estimated: true },
        { experiment_id: '000002', config_hash: '0123456789', energy_total_j: 200, energy_estimated: true },
      ]);
      expect(await db.query('SELECT experiment_id, final FROM failures')).toEqual([
        { experiment_id: '000003', final: true },
      ]);
      const joined = await db.query(
        `SELECT r.config_name, s.config.batch_size AS batch, g.notes, k.tokens.output AS out
         FROM results r JOIN experiment_setup s USING (experiment_id) JOIN global_energy g USING (experiment_id)
         JOIN raw_ranks k ON k.folder_id = r.experiment_id WHERE r.energy_total_j > ? ORDER BY 1`,
        [150],
      );
      expect(joined).toEqual([{ config_name: 'b8', batch: 8, notes: ['estimated'], out: 64 }]);
      const progress = await db.query(
        'SELECT key, status, experiment_id, attempts, owner_pid FROM progress ORDER BY key',
      );
      expect(progress).toEqual([
        { key: 'm::s::b1::1', status: 'done', experiment_id: '000001', attempts: 1, owner_pid: process.pid },
        { key: 'm::s::b8::1', status: 'done', experiment_id: '000002', attempts: 1, owner_pid: process.pid },
      ]);
      const [timing] = await db.query(
        'SELECT typeof(finished_at) AS t, finished_at >= started_at AS ordered FROM progress LIMIT 1',
      );
      expect(timing).toEqual({ t: 'TIMESTAMP WITH TIME ZONE', ordered: true });
    });
  });

  it('stacks a CSV moved aside (other columns) with the current one', async () => {
    const dir = await folder();
    await appendCsvRows(
      path.join(dir, 'text_generation_results.csv'),
      [...COLUMNS, 'flops_total'],
      [['000004', 'b2', 'ff', 5, false, 1e12]],
    );
    await withResultsDb(dir, async (db) => {
      expect(await db.query('SELECT experiment_id, flops_total FROM results ORDER BY experiment_id')).toEqual([
        { experiment_id: '000001', flops_total: null },
        { experiment_id: '000002', flops_total: null },
        { experiment_id: '000004', flops_total: 1e12 },
      ]);
    });
  });

  it('reads the results columns with their types from RESULT_COLUMNS (nothing sniffed); unknown columns are sniffed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-db-typed-'));
    const tricky = ['plain', 'comma, "quotes"', 'multi\nline\r\nwith CRLF', 'ünïcødé ✓', '000042'];
    const columns = [
      'experiment_id',
      'config_name',
      'batch_size',
      'energy_gpu_j',
      'energy_total_j',
      'energy_estimated',
    ];
    const rows = tricky.map((name, i) => [String(i + 1).padStart(6, '0'), name, 2 ** i, null, i + 0.5, i % 2 === 0]);
    await appendCsvRows(path.join(dir, 'text_generation_results.csv'), columns, rows);
    await appendCsvRows(path.join(dir, 'other_results.csv'), ['experiment_id', 'extra_w'], [['000009', 7.5]]);
    await withResultsDb(dir, async (db) => {
      const read = await db.query(
        `SELECT experiment_id, config_name, batch_size, energy_gpu_j, energy_total_j, energy_estimated FROM results
         WHERE extra_w IS NULL ORDER BY experiment_id`,
      );
      expect(read).toEqual(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))));
      const [types] = await db.query(
        `SELECT typeof(batch_size) AS b, typeof(energy_gpu_j) AS g, avg(energy_gpu_j) AS mean, typeof(extra_w) AS x
         FROM results GROUP BY ALL`,
      );
      expect(types).toEqual({ b: 'BIGINT', g: 'DOUBLE', mean: null, x: 'DOUBLE' });
    });
  });

  it('names the column and line of a cell that is not of its type', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-db-bad-'));
    const columns = ['experiment_id', 'energy_total_j'];
    await appendCsvRows(path.join(dir, 'text_generation_results.csv'), columns, [['000001', 'n/a']]);
    await withResultsDb(dir, async (db) => {
      await expect(db.query('SELECT avg(energy_total_j) FROM results')).rejects.toThrow(/energy_total_j/);
    });
  });

  it('creates a raw view when a query first names it (any case); hasView asks about one view', async () => {
    const dir = await folder();
    await withResultsDb(dir, async (db) => {
      expect(await db.query('SELECT count(*) AS n FROM results')).toEqual([{ n: 2 }]);
      expect(await db.hasView('results')).toBe(true);
      expect(await db.hasView('global_energy')).toBe(true);
      expect(await db.hasView('token_output')).toBe(false);
      expect(await db.query('SELECT folder_id, energy_total_j FROM Global_Energy ORDER BY 1')).toEqual([
        { folder_id: '000001', energy_total_j: 100 },
        { folder_id: '000002', energy_total_j: 200 },
      ]);
      await expect(db.query('SELECT * FROM token_output')).rejects.toThrow(/token_output/);
    });
  });

  it('exports Parquet that reads back the same', async () => {
    const dir = await folder();
    const file = path.join(dir, 'export', 'results.parquet');
    await withResultsDb(dir, async (db) => {
      await db.query(`SELECT 1`);
      await expect(db.exportParquet('results', path.join(dir, 'missing', 'x.parquet'))).rejects.toBeInstanceOf(
        ResultsQueryError,
      );
      await mkdir(path.dirname(file));
      expect(await db.exportParquet('results', file)).toEqual({ file, rows: 2 });
      expect(await db.query(`SELECT experiment_id, energy_total_j FROM read_parquet(?) ORDER BY 1`, [file])).toEqual([
        { experiment_id: '000001', energy_total_j: 100 },
        { experiment_id: '000002', energy_total_j: 200 },
      ]);
    });
  });

  it('reports bad SQL and unknown tables as ResultsQueryError; refuses queries once closed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-db-empty-'));
    const db = await ResultsDb.open(dir);
    expect(db.views).toEqual([]);
    await expect(db.query('SELECT * FROM results')).rejects.toThrow(/results/);
    await expect(db.query('SELEC 1')).rejects.toBeInstanceOf(ResultsQueryError);
    db.close();
    db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);
  });
});
