import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLine } from './csv-append.js';
import { CsvTail } from './csv-tail.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-csv-tail-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cell = fc.oneof(fc.string(), fc.constantFrom('a,b', '"q"', 'line\nbreak', 'é€', '', ' ', '""', 'x\r\ny'));
const row = fc.array(cell, { minLength: 3, maxLength: 3 });
let n = 0;
const file = () => path.join(dir, `t${n++}.csv`);

describe('CsvTail', () => {
  it('reads every record once, however the appends cut them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), async (rows, cuts) => {
        const f = file();
        const text = Buffer.from(csvLine(['a', 'b', 'c']) + rows.map(csvLine).join(''));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
        const tail = new CsvTail(f, { chunkBytes: 1024 });
        const got: string[][] = [];
        let at = 0;
        await writeFile(f, '');
        for (const p of [...points, text.length]) {
          await appendFile(f, text.subarray(at, p));
          at = Math.max(at, p);
          const read = await tail.read();
          expect(read.replaced).toBe(false);
          got.push(...read.records);
        }
        expect(got).toEqual(rows);
        expect(tail.offset).toBe(text.length);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps only the columns asked for, in their order, and reads big files in chunks', async () => {
    const f = file();
    const lines = Array.from({ length: 3000 }, (_, i) =>
      csvLine([i, `m${i}`, 'x'.repeat(i % 50), i % 7 ? i : 'q"uo,te']),
    );
    await writeFile(f, csvLine(['id', 'model', 'pad', 'v']) + lines.join(''));
    const tail = new CsvTail(f, { columns: ['v', 'id', 'absent'], chunkBytes: 4096 });
    const { header, records } = await tail.read();
    expect(header).toEqual(['id', 'model', 'pad', 'v']);
    expect(records).toHaveLength(3000);
    expect(records[1]).toEqual(['1', '1', '']);
    expect(records[7]).toEqual(['q"uo,te', '7', '']);
    await appendFile(f, 'x,y,z,w\r\n\n');
    expect((await tail.read()).records).toEqual([['w', 'x', '']]);
  });

  it('hands records to a visitor one at a time, a record longer than a chunk included', async () => {
    const f = file();
    const long = 'é'.repeat(5000);
    await writeFile(f, `a,b\n1,${long}\n2,"${long}\n"\n3,x\n`);
    const seen: string[][] = [];
    const read = await new CsvTail(f, { chunkBytes: 1024 }).read((r) => seen.push(r));
    expect(read.records).toEqual([]);
    expect(seen).toEqual([
      ['1', long],
      ['2', `${long}\n`],
      ['3', 'x'],
    ]);
  });

  it('hands cells decoded when asked: texts as read() returns them, numbers as Number() reads plain decimals', async () => {
    const numberish = fc.oneof(
      fc.integer().map(String),
      fc.double().map(String),
      fc.stringMatching(/^[0-9.eE+-]{1,20}$/),
      fc.constantFrom('007', '9007199254740993', '1e400', '-', '.', 'e', ' 1', '1 ', '0x10', 'é', 'cfg-1', ''),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(numberish, { minLength: 3, maxLength: 3 }), { maxLength: 20 }),
        async (rows) => {
          const f = file();
          await writeFile(f, csvLine(['a', 'b', 'c']) + rows.map(csvLine).join(''));
          const seen: Array<{ text: string[]; decimal: Array<number | undefined> }> = [];
          await new CsvTail(f, { columns: ['c', 'a'] }).readCells((cells) =>
            seen.push({ text: cells.toArray(), decimal: [0, 1].map((slot) => cells.decimal(slot)) }),
          );
          const decimal = (t: string) => (/^[0-9.eE+-]+$/.test(t) ? Number(t) : undefined);
          expect(seen).toEqual(rows.map(([a, , c]) => ({ text: [c, a], decimal: [decimal(c!), decimal(a!)] })));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('finds cells as they are asked for, in any order, short records included; mayHold tests the whole record', async () => {
    const f = file();
    const header = ['a', 'b', 'c', 'd', 'e'];
    const rows = [
      ['1', 'x', '', 'server', '5'],
      ['2', 'y'],
      ['3', 'z', 'w', 'transformers', ''],
      ['4', 'q,uoted', 'v', 'server', '6'],
      ['5', 'u', 'v', 'transformers', '7'],
      ['6', 'u', 'v', 'server', '8'],
    ];
    await writeFile(f, csvLine(header) + rows.map(csvLine).join(''));
    const seen: unknown[] = [];
    await new CsvTail(f, { columns: ['e', 'a', 'd', 'missing'] }).readCells((cells) => {
      const late = cells.mayHold('server') ? [cells.text(2), cells.decimal(0)] : null;
      seen.push([cells.text(1), late, cells.text(3), cells.text(0), cells.mayHold('nowhere'), cells.toArray()]);
    });
    expect(seen).toEqual([
      ['1', ['server', 5], '', '5', false, ['5', '1', 'server', '']],
      ['2', null, '', '', false, ['', '2', '', '']],
      ['3', null, '', '', false, ['', '3', 'transformers', '']],
      ['4', ['server', 6], '', '6', true, ['6', '4', 'server', '']], // a record with quotes: may hold anything
      ['5', null, '', '7', false, ['7', '5', 'transformers', '']],
      ['6', ['server', 8], '', '8', false, ['8', '6', 'server', '']],
    ]);
  });

  it('waits for a torn last line, and a quoted newline not yet closed', async () => {
    const f = file();
    await writeFile(f, 'a,b\n1,2\n3,"x\ny');
    const tail = new CsvTail(f);
    expect((await tail.read()).records).toEqual([['1', '2']]);
    expect((await tail.read()).records).toEqual([]);
    await appendFile(f, '"\n4,');
    expect((await tail.read()).records).toEqual([['3', 'x\ny']]);
    await appendFile(f, '5\n');
    expect((await tail.read()).records).toEqual([['4', '5']]);
  });

  it('stops at NUL bytes left by a power cut', async () => {
    const f = file();
    await writeFile(f, 'a\n1\n\0\0\0\n2\n');
    const tail = new CsvTail(f);
    expect((await tail.read()).records).toEqual([['1']]);
    expect(tail.offset).toBe(4);
  });

  it('reads a replaced, truncated, rewritten or removed file again from the start', async () => {
    const f = file();
    await writeFile(f, 'a,b\n1,2\n3,4\n');
    const tail = new CsvTail(f);
    expect((await tail.read()).records).toHaveLength(2);

    await writeFile(`${f}.new`, 'a,b\n9,9\n');
    await rename(`${f}.new`, f); // another inode (rotated, or rewritten atomically)
    expect(await tail.read()).toEqual({ replaced: true, header: ['a', 'b'], records: [['9', '9']] });

    await truncate(f, 4);
    expect(await tail.read()).toEqual({ replaced: true, header: ['a', 'b'], records: [] });

    await appendFile(f, '5,6\n7,8\n');
    expect((await tail.read()).records).toEqual([
      ['5', '6'],
      ['7', '8'],
    ]);
    await writeFile(f, 'a,b\n0,0\n1,1\n2,2\n'); // same inode, rewritten longer: the bytes before the offset changed
    expect(await tail.read()).toMatchObject({
      replaced: true,
      records: [
        ['0', '0'],
        ['1', '1'],
        ['2', '2'],
      ],
    });

    await rm(f);
    expect(await tail.read()).toEqual({ replaced: true, header: [], records: [] });
    expect(await tail.read()).toEqual({ replaced: false, header: [], records: [] });
    await writeFile(f, 'c\n1\n');
    expect(await tail.read()).toEqual({ replaced: false, header: ['c'], records: [['1']] });
  });

  it('reads a file rewritten in place at the same size again (its time moved, not its size)', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `${i},${i}\n`);
    const f = file();
    const tail = new CsvTail(f);
    await writeFile(f, `a,b\n${rows.join('')}`);
    expect((await tail.read()).records).toHaveLength(20);
    await new Promise((r) => setTimeout(r, 5));
    await writeFile(f, `a,b\n${[rows[1], rows[0], ...rows.slice(2)].join('')}`); // same size, same bytes before the offset
    expect(await tail.read()).toMatchObject({
      replaced: true,
      records: expect.arrayContaining([
        ['1', '1'],
        ['0', '0'],
      ]),
    });
  });
});
