import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { appendCsvRows, csvLine } from './csv-append.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-csv-'));
const cols = ['id', 'name', 'value', 'ok'];

describe('appendCsvRows', () => {
  it('writes the header once and quotes what needs quoting', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await appendCsvRows(file, cols, [['1', 'plain', 1.5, true]]);
    await appendCsvRows(file, cols, [['2', 'with, comma "and" quote\nand newline', null, false]]);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      { id: '1', name: 'plain', value: '1.5', ok: 'true' },
      { id: '2', name: 'with, comma "and" quote\nand newline', value: '', ok: 'false' },
    ]);
  });

  it('drops a torn last row left by a crash before appending', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await appendCsvRows(file, cols, [['1', 'a', 1, true]]);
    await appendFile(file, '2,half-writ');
    await appendCsvRows(file, cols, [['3', 'c', 3, true]]);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.id)).toEqual(['1', '3']);
  });

  it('cuts a row torn just after a newline inside quotes (the file then ends in a newline)', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await appendCsvRows(file, cols, [['1', 'multi\nline', 1, true]]);
    await appendFile(file, '2,"cut after the newline\n');
    const result = await appendCsvRows(file, cols, [['3', 'c', 3, true]]);
    expect(result.droppedBytes).toBe(Buffer.byteLength('2,"cut after the newline\n'));
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.id, r.name])).toEqual([
      ['1', 'multi\nline'],
      ['3', 'c'],
    ]);
  });

  it('cuts NUL bytes a power cut left at the end', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await appendCsvRows(file, cols, [['1', 'a', 1, true]]);
    await appendFile(file, Buffer.alloc(100));
    await appendCsvRows(file, cols, [['2', 'b', 2, true]]);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.id)).toEqual(['1', '2']);
  });

  it('moves a file with other columns aside instead of misaligning rows', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'r.csv');
    await writeFile(file, 'id,old_column\n1,x\n');
    const result = await appendCsvRows(file, cols, [['2', 'b', 2, true]]);
    expect(result.rotatedTo).toMatch(/r\..+\.csv$/);
    expect(await readFile(result.rotatedTo!, 'utf8')).toBe('id,old_column\n1,x\n');
    expect(await readFile(file, 'utf8')).toBe(csvLine(cols) + csvLine(['2', 'b', 2, true]));
    expect((await readdir(dir)).filter((n) => n.endsWith('.csv'))).toHaveLength(2);
  });

  it('keeps concurrent appends whole', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => appendCsvRows(file, cols, [[String(i), 'x'.repeat(500), i, true]])),
    );
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(25);
    expect(new Set(rows.map((r) => r.id)).size).toBe(25);
  });

  it('rejects a row of the wrong width', async () => {
    const file = path.join(await tmp(), 'r.csv');
    await expect(appendCsvRows(file, cols, [['1']])).rejects.toThrow(/1 cells, r.csv has 4 columns/);
  });
});
