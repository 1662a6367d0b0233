import { parse } from 'csv-parse/sync';

// Byte-level pieces of CsvTail: records found in a Buffer without decoding what is not needed.
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const NEWLINE = 0x0a;
export const CR = 0x0d;

/** The cells of a line without quotes, [from, nl); a final `\r` dropped. */
export function splitPlain(buf: Buffer, from: number, nl: number): string[] {
  return buf.toString('utf8', from, buf[nl - 1] === CR ? nl - 1 : nl).split(',');
}

/** A blank line (or a lone `\r`) is no record. */
export const isBlank = (buf: Buffer, from: number, nl: number) => nl === from || (nl === from + 1 && buf[from] === CR);

/** Index of the newline ending the record at `from` (newlines inside quotes are data); -1 when it is torn. */
export function quotedRecordEnd(buf: Buffer, from: number, limit: number): number {
  let inQuotes = false;
  for (let i = from; i < limit; i++) {
    const b = buf[i];
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === NEWLINE && !inQuotes) return i;
  }
  return -1;
}

export const parseRecord = (text: string): string[] =>
  (parse(text, { relax_column_count: true, relax_quotes: true }) as string[][])[0] ?? [];
