import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FAILURE_COLUMNS, readFailures, recordFailure } from './failure-log.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-fail-'));
const failure = {
  experimentId: '000003',
  configName: 'b8',
  modelName: 'org/m',
  kind: 'oom',
  message: 'CUDA out of memory.\nTried to allocate "2 GiB"',
  config: { batch_size: 8 },
};

describe('recordFailure', () => {
  it('logs every attempt and marks the final one', async () => {
    const dir = await tmp();
    const file = await recordFailure(dir, { ...failure, attempt: 1, final: false }, new Date('2024-05-01T00:00:00Z'));
    await recordFailure(dir, { ...failure, attempt: 2, final: true });
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...FAILURE_COLUMNS]);
    expect(FAILURE_COLUMNS.at(-1)).toBe('final');
    expect(rows.map((r) => [r.attempt, r.final])).toEqual([
      ['1', 'false'],
      ['2', 'true'],
    ]);
    expect(rows[0]).toMatchObject({
      timestamp: '2024-05-01T00:00:00.000Z',
      error_message: failure.message,
      config_json: '{"batch_size":8}',
    });
  });

  it('keeps a log with the old columns (no "final") aside and starts a new one', async () => {
    const dir = await tmp();
    await writeFile(
      path.join(dir, 'failed_experiments.csv'),
      `${FAILURE_COLUMNS.slice(0, -1).join(',')}\n2024,000001,a,m,1,oom,x,{}\n`,
    );
    await recordFailure(dir, { ...failure, attempt: 1 });
    const names = (await readdir(dir)).filter((n) => n.startsWith('failed_experiments')).sort();
    expect(names).toHaveLength(2);
    const rows = parse(await readFile(path.join(dir, 'failed_experiments.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows).toMatchObject([{ experiment_id: '000003', final: 'true' }]);
  });
});

describe('readFailures', () => {
  it('reads back what recordFailure wrote, oldest first', async () => {
    const dir = await tmp();
    await recordFailure(dir, { ...failure, attempt: 1, final: false }, new Date('2024-05-01T00:00:00Z'));
    await recordFailure(dir, { ...failure, attempt: 2 }, new Date('2024-05-01T00:01:00Z'));
    expect(await readFailures(dir)).toEqual([
      {
        timestamp: '2024-05-01T00:00:00.000Z',
        experimentId: '000003',
        configName: 'b8',
        modelName: 'org/m',
        attempt: 1,
        kind: 'oom',
        message: failure.message,
        final: false,
      },
      expect.objectContaining({ attempt: 2, final: true }),
    ]);
  });

  it('is empty without a log, and reads odd cells and a torn last line leniently', async () => {
    const dir = await tmp();
    expect(await readFailures(dir)).toEqual([]);
    await writeFile(
      path.join(dir, 'failed_experiments.csv'),
      'timestamp,experiment_id,attempt,kind\n2024,000001,x,\n2024,000002,2,oom',
    );
    expect(await readFailures(dir)).toEqual([
      {
        timestamp: '2024',
        experimentId: '000001',
        configName: '',
        modelName: '',
        attempt: 1,
        kind: 'other',
        message: '',
        final: true,
      },
    ]);
  });
});
