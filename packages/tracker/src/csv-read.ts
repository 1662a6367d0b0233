import { readFile } from 'node:fs/promises';

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

/** Records of a CSV text; a last record not ended by a newline (torn) is left out. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field: string;
    if (text.charCodeAt(i) === QUOTE) {
      // Quoted: runs to the next lone quote; "" is one quote.
      field = '';
      let from = ++i;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return rows; // torn inside quotes
        if (text.charCodeAt(q + 1) === QUOTE) {
          field += text.slice(from, q + 1);
          i = from = q + 2;
        } else {
          field += text.slice(from, q);
          i = q + 1;
          break;
        }
      }
    } else {
      let j = i;
      while (j < n && text.charCodeAt(j) !== 0x2c && text.charCodeAt(j) !== NEWLINE) j++;
      field = text.slice(i, j);
      i = j;
    }
    if (i < n && text.charCodeAt(i) !== 0x2c && text.charCodeAt(i) !== NEWLINE) {
      // Text after a closing quote, before the separator: keep it, as lenient readers do.
      const next = text.slice(i).search(/[,\n]/);
      if (next < 0) return rows;
      field += text.slice(i, i + next);
      i += next;
    }
    if (i >= n) return rows; // no newline after the last field: torn
    row.push(text.charCodeAt(i) === NEWLINE && field.endsWith('\r') ? field.slice(0, -1) : field);
    if (text.charCodeAt(i) === NEWLINE) {
      rows.push(row);
      row = [];
    }
    i++;
  }
  return rows;
}

/** The values of one column of a CSV file (by header name); undefined when the file or column is absent. */
export async function readCsvColumn(file: string, column: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [header, ...rows] = parseCsv(text);
  const index = header?.indexOf(column) ?? -1;
  if (index < 0) return undefined;
  return rows.map((r) => r[index] ?? '');
}
