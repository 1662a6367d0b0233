import { open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fsyncDir } from './atomic-write.js';
import { withLock } from './lock.js';

export type Cell = string | number | boolean | null;

/** One CSV line (RFC 4180 quoting, `\n` ending); null is an empty cell. */
export function csvLine(values: readonly Cell[]): string {
  return stringify([values.map((v) => (v === null ? '' : typeof v === 'boolean' ? String(v) : v))], {
    record_delimiter: '\n',
  });
}

/** First line of a file and whether its last byte is a newline, reading little. */
async function inspect(file: string): Promise<{ header: string; size: number; endsWithNewline: boolean } | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { header: '', size, endsWithNewline: true };
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await handle.read(head, 0, head.length, 0);
    const text = head.toString('utf8');
    const nl = text.indexOf('\n');
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return { header: nl >= 0 ? text.slice(0, nl + 1) : text, size, endsWithNewline: last[0] === 0x0a };
  } finally {
    await handle.close();
  }
}

/** Cut a torn last line (a crash mid-append) back to the last complete row. */
async function dropTornTail(file: string, size: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
    await handle.read(chunk, 0, chunk.length, size - chunk.length);
    const nl = chunk.lastIndexOf(0x0a);
    await handle.truncate(nl < 0 ? size - chunk.length : size - chunk.length + nl + 1);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface AppendResult {
  /** Set when the existing file had other columns and was moved aside. */
  rotatedTo?: string;
}

/**
 * Append rows to a CSV under a lock: the header is written when the file is new; a file whose
 * header differs is kept under a dated name and a new one started (never misaligned); each
 * append is one write + fsync.
 */
export async function appendCsvRows(file: string, columns: readonly string[], rows: readonly (readonly Cell[])[]): Promise<AppendResult> {
  for (const row of rows) {
    if (row.length !== columns.length) throw new RangeError(`row has ${row.length} cells, ${path.basename(file)} has ${columns.length} columns`);
  }
  const header = csvLine(columns);
  return withLock(path.dirname(file), `.${path.basename(file)}`, async () => {
    const result: AppendResult = {};
    let state = await inspect(file);
    if (state && state.size > 0 && state.header !== header) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      result.rotatedTo = file.replace(/\.csv$/, '') + `.${stamp}.csv`;
      await rename(file, result.rotatedTo);
      state = undefined;
    } else if (state && !state.endsWithNewline) {
      await dropTornTail(file, state.size);
      state = { ...state, size: (await stat(file)).size };
    }
    const text = (state && state.size > 0 ? '' : header) + rows.map(csvLine).join('');
    const handle = await open(file, 'a', 0o644);
    try {
      await handle.write(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!state) await fsyncDir(path.dirname(file));
    return result;
  });
}
