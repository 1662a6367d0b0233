import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * Byte offset just past the last whole record of a CSV (RFC 4180: a newline inside quotes is
 * data). Stops at a NUL byte (what a power cut can leave instead of data). 0 when there is none.
 */
export function lastRecordEnd(bytes: Uint8Array): number {
  let inQuotes = false;
  let end = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) inQuotes = !inQuotes;
    else if (b === NEWLINE && !inQuotes) end = i + 1;
    else if (b === 0) break;
  }
  return end;
}

/**
 * Records of a CSV text (csv-parse, RFC 4180); a last record not ended by a newline (torn by a
 * crash mid-append) is left out, as is anything after a NUL byte.
 */
export function parseCsv(text: string): string[][] {
  const bytes = Buffer.from(text, 'utf8');
  const whole = bytes.subarray(0, lastRecordEnd(bytes)).toString('utf8');
  return parse(whole, { relax_column_count: true, relax_quotes: true }) as string[][];
}

/** The text of a file; undefined when it is not there. */
async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Header + records of a CSV file as objects (a short record's missing cells ''); [] when the file is not there. */
export async function readCsvRecords(file: string): Promise<Record<string, string>[]> {
  const text = await readIfThere(file);
  if (text === undefined) return [];
  const [header, ...records] = parseCsv(text);
  if (!header) return [];
  return records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

/** The values of one column of a CSV file (by header name); undefined when the file or column is absent. */
export async function readCsvColumn(file: string, column: string): Promise<string[] | undefined> {
  const text = await readIfThere(file);
  if (text === undefined) return undefined;
  const [header, ...rows] = parseCsv(text);
  const index = header?.indexOf(column) ?? -1;
  if (index < 0) return undefined;
  return rows.map((r) => r[index] ?? '');
}
