import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../output.js';
import { results, TABLE_ROW_LIMIT } from './results.js';

const study = async (experiments: number) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-results-cmd-'));
  await writeStudyFolder(dir, { experiments, journal: false });
  return dir;
};

describe('joules results', () => {
  it('a small study: the table shows every row, nothing on stderr', async () => {
    const dir = await study(40);
    const output = captureOutput();
    expect(await results({ resultsDir: dir }, output)).toBe(0);
    const lines = output.stdout.join('\n').split('\n');
    expect(lines[0]).toMatch(/^experiment_id +config_name +model_name/);
    expect(lines).toHaveLength(2 + 40);
    expect(output.stderr).toEqual([]);
  });

  it(`a large study: the table stops at ${TABLE_ROW_LIMIT} rows and says how to get the rest; csv gets every row`, async () => {
    const dir = await study(TABLE_ROW_LIMIT + 200);
    const table = captureOutput();
    expect(await results({ resultsDir: dir }, table)).toBe(0);
    const lines = table.stdout.join('\n').split('\n');
    expect(lines).toHaveLength(2 + TABLE_ROW_LIMIT);
    expect(lines[2]).toMatch(/^000001 /);
    expect(table.stderr.join('\n')).toMatch(
      new RegExp(`first ${TABLE_ROW_LIMIT} of ${TABLE_ROW_LIMIT + 200} rows.*--format csv\\|json\\|parquet --out`),
    );

    const csv = captureOutput();
    const out = path.join(dir, 'all.csv');
    expect(await results({ resultsDir: dir, format: 'csv', out }, csv)).toBe(0);
    expect((await readFile(out, 'utf8')).trimEnd().split('\n')).toHaveLength(1 + TABLE_ROW_LIMIT + 200);

    const sql = captureOutput();
    const query = 'SELECT model_name, count(*) AS n FROM results GROUP BY 1 ORDER BY 1';
    expect(await results({ resultsDir: dir, sql: query, format: 'json' }, sql)).toBe(0);
    expect(
      sql.stdout
        .join('\n')
        .split('\n')
        .map((l) => JSON.parse(l).n),
    ).toEqual([300, 300, 300, 300]);
  });
});
