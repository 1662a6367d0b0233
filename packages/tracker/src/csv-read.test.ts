import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvLine } from './csv-append.js';
import { lastRecordEnd, parseCsv } from './csv-read.js';

const cell = fc.oneof(fc.string(), fc.constantFrom('a,b', '"q"', 'line\nbreak', '', ' ', '""'));
const rows = fc.array(fc.array(cell, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 10 });

describe('parseCsv', () => {
  it('reads back what csvLine writes', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const text = rs.map(csvLine).join('');
        expect(parseCsv(text)).toEqual(rs);
      }),
    );
  });

  it('leaves out a torn last record', () => {
    expect(parseCsv('a,b\n1,2\n3,"x\ny')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('a,b\n1,2\n3,4')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});

describe('lastRecordEnd', () => {
  it('finds the end of the last whole record, newlines inside quotes included', () => {
    fc.assert(
      fc.property(rows, fc.nat(), (rs, cut) => {
        const whole = Buffer.from(rs.map(csvLine).join(''));
        const ends = [0];
        let at = 0;
        for (const r of rs) {
          at += Buffer.byteLength(csvLine(r));
          ends.push(at);
        }
        const n = cut % (whole.length + 1);
        expect(lastRecordEnd(whole.subarray(0, n))).toBe(Math.max(...ends.filter((e) => e <= n)));
      }),
    );
  });

  it('stops at NUL bytes left by a power cut', () => {
    expect(lastRecordEnd(Buffer.from('a\nb\n\0\0\0\n'))).toBe(4);
  });
});
