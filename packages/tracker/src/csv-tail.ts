import { type FileHandle, open } from 'node:fs/promises';
import { CR, isBlank, NEWLINE, parseRecord, QUOTE, quotedRecordEnd, splitPlain } from './csv-bytes.js';
import { ByteCells, type CsvCells, TextCells } from './csv-tail-cells.js';

/** Bytes kept from just before the offset: a file rewritten in place (not appended to) no longer has them there. */
const GUARD = 64;

export interface CsvTailRead {
  /** What was read before no longer holds (the file was replaced, rewritten, truncated or removed): `records` start again from its first row. */
  replaced: boolean;
  /** The header's cells ([] until the file has a whole first line). */
  header: readonly string[];
  /** Whole records appended since the last read: only the cells of `columns` when given (in that order, '' when the file lacks one). */
  records: string[][];
}

export interface CsvTailOptions {
  /** Keep only these columns (by header name): the others are skipped without being decoded. */
  columns?: readonly string[];
  /** Bytes read at a time (default 8 MiB); a longer record is read whole all the same. */
  chunkBytes?: number;
}

const isEnoent = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Follows a CSV file that other processes append to (RFC 4180, as `appendCsvRows` writes it), by
 * byte offset: each `read()` parses only the whole records appended since the last one. A torn
 * last record (no newline yet, or a quoted newline not closed) waits for the next read; nothing
 * after a NUL byte (what a power cut leaves) is read. A file replaced (another inode), truncated,
 * rewritten in place (the bytes just before the offset changed, or its time moved but not its
 * size) or removed is read again from the start, with `replaced` set. Takes no lock.
 */
export class CsvTail {
  readonly file: string;
  readonly #columns: readonly string[] | undefined;
  readonly #chunk: number;
  #ino: number | undefined;
  /** Size and modification time at the last read: a file whose time moved but not its size was rewritten, not appended to. */
  #size = -1;
  #mtime = -1;
  #offset = 0;
  #guard: Buffer = Buffer.alloc(0);
  #header: string[] = [];
  /** Per column of the file: its slot in the returned record, or -1. */
  #slots: number[] = [];
  #cells = new ByteCells(0, []);

  constructor(file: string, options: CsvTailOptions = {}) {
    this.file = file;
    this.#columns = options.columns;
    this.#chunk = Math.max(1024, options.chunkBytes ?? 8 << 20);
  }

  /** Bytes read whole so far (the header included). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * The whole records appended since the last read. With `onRecord`, each is handed to it as it is
   * parsed instead of returned in `records` (a big file is then never held as records all at once).
   */
  read(onRecord?: (record: string[]) => void): Promise<CsvTailRead> {
    const records: string[][] = [];
    const visit = onRecord ?? ((r) => records.push(r));
    return this.#read((cells) => visit(cells.toArray()), records);
  }

  /**
   * The whole records appended since the last read, each handed to `visit` as cells decoded only
   * when asked (a number read without a string made for it; `records` is empty).
   */
  readCells(visit: (cells: CsvCells) => void): Promise<CsvTailRead> {
    return this.#read(visit, []);
  }

  async #read(visit: (cells: CsvCells) => void, records: string[][]): Promise<CsvTailRead> {
    let handle: FileHandle;
    try {
      handle = await open(this.file, 'r');
    } catch (error) {
      if (!isEnoent(error)) throw error;
      const replaced = this.#offset > 0;
      this.#reset(undefined);
      return { replaced, header: [], records };
    }
    try {
      const { ino, size, mtimeMs } = await handle.stat();
      let replaced = false;
      const rewritten = size < this.#offset || (size === this.#size && mtimeMs !== this.#mtime);
      if (this.#offset > 0 && (ino !== this.#ino || rewritten || !(await this.#guardHolds(handle)))) {
        replaced = true;
        this.#reset(ino);
      }
      this.#ino = ino;
      this.#size = size;
      this.#mtime = mtimeMs;
      await this.#readFrom(handle, size, visit);
      return { replaced, header: this.#header, records };
    } finally {
      await handle.close();
    }
  }

  async #guardHolds(handle: FileHandle): Promise<boolean> {
    const bytes = Buffer.alloc(this.#guard.length);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, this.#offset - bytes.length);
    return bytesRead === bytes.length && bytes.equals(this.#guard);
  }

  /** Parse [offset, size) a chunk at a time, in one buffer (what a chunk ends with that is not a whole record moves to its start). */
  async #readFrom(handle: FileHandle, size: number, emit: (cells: CsvCells) => void): Promise<void> {
    let buf = Buffer.allocUnsafe(Math.min(this.#chunk, size - this.#offset));
    let carried = 0;
    let at = this.#offset;
    while (at < size) {
      if (carried === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]); // a record longer than the buffer
      const { bytesRead } = await handle.read(buf, carried, Math.min(buf.length - carried, size - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      const filled = buf.subarray(0, carried + bytesRead);
      const { consumed, stopped } = this.#scan(filled, emit);
      this.#offset += consumed;
      if (consumed > 0) this.#guard = Buffer.from(filled.subarray(Math.max(0, consumed - GUARD), consumed));
      if (stopped) break;
      carried = filled.copy(buf, 0, consumed);
    }
  }

  /** Whole records of `buf` to `emit`; the bytes consumed, and whether a NUL byte ended the data. */
  #scan(buf: Buffer, emit: (cells: CsvCells) => void): { consumed: number; stopped: boolean } {
    const nul = buf.indexOf(0);
    const limit = nul >= 0 ? nul : buf.length;
    let pos = 0;
    let quote = buf.indexOf(QUOTE);
    while (pos < limit) {
      const nl = buf.indexOf(NEWLINE, pos);
      if (nl < 0 || nl >= limit) break;
      let end = nl;
      if (quote >= 0 && quote < nl) {
        end = quotedRecordEnd(buf, pos, limit);
        if (end < 0) break;
        this.#take(parseRecord(buf.toString('utf8', pos, end + 1)), emit);
        quote = buf.indexOf(QUOTE, end + 1);
      } else if (!isBlank(buf, pos, nl)) {
        if (this.#header.length) emit(this.#plainRecord(buf, pos, nl));
        else this.#take(splitPlain(buf, pos, nl), emit);
      }
      pos = end + 1;
    }
    return { consumed: pos, stopped: nul >= 0 };
  }

  /** The fast path: a record without quotes, [from, nl); its cells found as they are first asked for (ByteCells). */
  #plainRecord(buf: Buffer, from: number, nl: number): CsvCells {
    this.#cells.begin(buf, from, buf[nl - 1] === CR ? nl - 1 : nl);
    return this.#cells;
  }

  /** A record parsed whole (the header, or one with quotes) → the header, or a record as returned. */
  #take(cells: string[], emit: (cells: CsvCells) => void): void {
    if (!this.#header.length) {
      this.#useHeader(cells);
      return;
    }
    const out = new Array<string>(this.#columns?.length ?? this.#header.length).fill('');
    const n = Math.min(cells.length, this.#slots.length);
    for (let i = 0; i < n; i++) {
      const slot = this.#slots[i]!;
      if (slot >= 0) out[slot] = cells[i]!;
    }
    emit(new TextCells(out));
  }

  #useHeader(cells: string[]): void {
    this.#header = cells;
    const wanted = this.#columns;
    this.#slots = cells.map((h, i) => (wanted ? wanted.indexOf(h) : i));
    this.#cells = new ByteCells(wanted?.length ?? cells.length, this.#slots);
  }

  #reset(ino: number | undefined): void {
    this.#ino = ino;
    this.#offset = 0;
    this.#guard = Buffer.alloc(0);
    this.#header = [];
    this.#slots = [];
  }
}
