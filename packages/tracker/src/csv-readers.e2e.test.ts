import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './__fixtures__/run-fixture.js';
import { appendCsvRows } from './csv-append.js';
import { recordFailure } from './failure-log.js';
import { withResultsDb } from './query/results-db.js';

const python = path.join(repoRoot, 'python', '.venv', 'bin', 'python');
const tricky = ['plain', 'comma, "quotes"', 'multi\nline\r\nwith CRLF', 'ünïcødé ✓', ''];

async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-readers-'));
  const columns = ['experiment_id', 'note', 'value', 'ok'];
  for (const [i, note] of tricky.entries()) {
    await appendCsvRows(path.join(dir, 'text_generation_results.csv'), columns, [
      [String(i + 1).padStart(6, '0'), note, i === 4 ? null : i + 0.5, i % 2 === 0],
    ]);
  }
  await recordFailure(dir, {
    experimentId: '000009',
    configName: 'c',
    modelName: 'm',
    attempt: 1,
    kind: 'oom',
    message: 'Traceback:\n  "x", line 1',
    config: { a: [1, 2] },
    final: false,
  });
  return dir;
}

describe('the CSVs read the same in other tools', () => {
  it('DuckDB', async () => {
    const dir = await folder();
    await withResultsDb(dir, async (db) => {
      const rows = await db.query('SELECT experiment_id, note, value, ok FROM results ORDER BY experiment_id');
      expect(rows.map((r) => r.note ?? '')).toEqual(tricky);
      expect(rows[4]).toMatchObject({ experiment_id: '000005', value: null, ok: true });
      expect(await db.query('SELECT error_message, final FROM failures')).toEqual([
        { error_message: 'Traceback:\n  "x", line 1', final: false },
      ]);
    });
  });

  it.runIf(existsSync(python))(
    'pandas (from the worker venv)',
    async () => {
      const dir = await folder();
      const script = `
import json, sys, pandas as pd
r = pd.read_csv(sys.argv[1] + '/text_generation_results.csv', dtype={'experiment_id': str}, keep_default_na=False)
f = pd.read_csv(sys.argv[1] + '/failed_experiments.csv', dtype={'experiment_id': str})
print(json.dumps({'ids': list(r.experiment_id), 'notes': list(r.note), 'columns': list(f.columns), 'final': bool(f.final[0]), 'msg': f.error_message[0]}))`;
      const { stdout } = await promisify(execFile)(python, ['-c', script, dir]);
      const out = JSON.parse(stdout);
      expect(out.ids).toEqual(['000001', '000002', '000003', '000004', '000005']);
      expect(out.notes).toEqual(tricky);
      expect(out.columns.at(-1)).toBe('final');
      expect(out).toMatchObject({ final: false, msg: 'Traceback:\n  "x", line 1' });
    },
    60_000,
  );
});
