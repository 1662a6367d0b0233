import { type FileHandle, open, readFile, rename, truncate } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fsyncDir } from './atomic-write.js';
import { lastRecordEnd } from './csv-read.js';
import { TrackerInputError } from './errors.js';
import { withLock } from './lock.js';

export type Cell = string | number | boolean | null;

/** One CSV line (RFC 4180 quoting, `\n` ending); null is an empty cell. */
export function csvLine(values: readonly Cell[]): string {
  return stringify([values.map((v) => (v === null ? '' : typeof v === 'boolean' ? String(v) : v))], {
    record_delimiter: '\n',
  });
}

const TAIL_BYTES = 64 * 1024;

interface FileState {
  header: string;
  size: number;
  /** The end may not be a record boundary: scan the whole file to find the last one. */
  suspectTail: boolean;
}

const countQuotes = (bytes: Uint8Array) => bytes.reduce((n, b) => (b === 0x22 ? n + 1 : n), 0);

/**
 * The header and whether the tail looks whole, reading at most two small chunks. The tail is
 * suspect when it lacks a final newline, holds NUL bytes (left by a power cut), or its last line
 * has an odd number of quotes (the end of a multi-line record — or a row cut after a newline
 * inside quotes; only a full scan tells which, and such rows are rare).
 */
async function inspect(file: string): Promise<FileState | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return { header: '', size, suspectTail: false };
    const head = Buffer.alloc(Math.min(size, TAIL_BYTES));
    await handle.read(head, 0, head.length, 0);
    const text = head.toString('utf8');
    const nl = text.indexOf('\n');
    const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
    await handle.read(tail, 0, tail.length, size - tail.length);
    const prev = tail.lastIndexOf(0x0a, tail.length - 2);
    const suspectTail =
      tail[tail.length - 1] !== 0x0a ||
      tail.includes(0) ||
      (prev < 0 && tail.length < size) ||
      countQuotes(tail.subarray(prev + 1)) % 2 === 1;
    return { header: nl >= 0 ? text.slice(0, nl + 1) : text, size, suspectTail };
  } finally {
    await handle.close();
  }
}

/** Cut what follows the last whole record (a crash mid-append); returns the bytes dropped. */
async function dropTornTail(file: string, size: number): Promise<number> {
  const end = lastRecordEnd(await readFile(file));
  if (end === size) return 0;
  await truncate(file, end);
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return size - end;
}

export interface AppendResult {
  /** Set when the existing file had other columns and was moved aside. */
  rotatedTo?: string;
  /** Bytes of a torn last row (left by a crash) cut before appending. */
  droppedBytes?: number;
}

/**
 * Append rows to a CSV under a lock: the header is written when the file is new; a file whose
 * header differs is kept under a dated name and a new one started (never misaligned); a torn
 * last row is cut first; each append is one write + fsync.
 */
export async function appendCsvRows(
  file: string,
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
): Promise<AppendResult> {
  for (const row of rows) {
    if (row.length !== columns.length)
      throw new TrackerInputError(`row has ${row.length} cells, ${path.basename(file)} has ${columns.length} columns`);
  }
  const header = csvLine(columns);
  return withLock(path.dirname(file), `.${path.basename(file)}`, async () => {
    const result: AppendResult = {};
    let state = await inspect(file);
    if (state?.suspectTail) {
      const dropped = await dropTornTail(file, state.size);
      if (dropped > 0) result.droppedBytes = dropped;
      state = { ...state, size: state.size - dropped };
    }
    if (state && state.size > 0 && state.header !== header) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      result.rotatedTo = file.replace(/\.csv$/, '') + `.${stamp}.csv`;
      await rename(file, result.rotatedTo);
      state = undefined;
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
