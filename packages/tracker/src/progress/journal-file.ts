import { type FileHandle, open, truncate } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from '../atomic-write.js';
import { ResultsFileError } from '../errors.js';
import { type ProgressEntry, toEntry } from './entry.js';

export const JOURNAL_FORMAT = 'joules-progress';
export const JOURNAL_VERSION = 1;

/** First line of a journal file. */
export const headerLine = () => `${JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION })}\n`;

export const entryLine = (e: ProgressEntry) => `${JSON.stringify(e)}\n`;

export interface ParsedChunk {
  entries: ProgressEntry[];
  /** Bytes up to and including the last newline: what was read whole. */
  consumed: number;
  /** Lines that were neither the header nor an entry (corrupt); skipped. */
  badLines: number;
  /** Bytes after the last newline: a line cut by a crash (or still being written); ignored. */
  tornBytes: number;
}

/** Parse whole lines of journal bytes; what follows the last newline is left for later. */
export function parseJournalChunk(bytes: Buffer, file: string): ParsedChunk {
  const consumed = bytes.lastIndexOf(0x0a) + 1;
  const entries: ProgressEntry[] = [];
  let badLines = 0;
  const text = bytes.toString('utf8', 0, consumed);
  for (let from = 0, nl = text.indexOf('\n'); nl >= 0; from = nl + 1, nl = text.indexOf('\n', from)) {
    if (nl === from) continue;
    const line = text.slice(from, nl);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    const entry = toEntry(value);
    if (entry) entries.push(entry);
    else if ((value as { format?: unknown })?.format === JOURNAL_FORMAT) {
      const version = (value as { version?: unknown }).version;
      if (typeof version === 'number' && version > JOURNAL_VERSION) {
        throw new ResultsFileError(
          file,
          `progress journal version ${version} is newer than this Joules reads (${JOURNAL_VERSION}): upgrade Joules`,
        );
      }
    } else badLines++;
  }
  return { entries, consumed, badLines, tornBytes: bytes.length - consumed };
}

/** Bytes [start, end) of an open file. */
async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(end - start);
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === buffer.length ? buffer : buffer.subarray(0, done);
}

export interface JournalHealth {
  /** Entry lines in the file (superseded ones included). */
  records: number;
  /** Corrupt lines skipped while reading. */
  badLines: number;
  /** Bytes of a cut last line ignored at the last read (cut off before the next append). */
  tornBytes: number;
}

const isEnoent = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The journal file as one reader sees it: how far it has read (offset) in which file (inode). A
 * read takes only what was appended since; a file replaced by a compaction (or removed) is read
 * again from the start.
 */
export class JournalFile {
  readonly path: string;
  #ino: number | undefined;
  #offset = 0;
  #health: JournalHealth = { records: 0, badLines: 0, tornBytes: 0 };

  constructor(file: string) {
    this.path = file;
  }

  get health(): Readonly<JournalHealth> {
    return { ...this.#health };
  }

  /**
   * Entries appended since the last read. `replaced`: the file was replaced or removed, so what
   * was read before no longer holds. With `repair` (only under the lock) a torn tail is cut.
   */
  async read(repair: boolean): Promise<{ replaced: boolean; entries: ProgressEntry[] }> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if (!isEnoent(error)) throw error;
      const replaced = this.#ino !== undefined;
      this.#reset(undefined);
      return { replaced, entries: [] };
    }
    let result: { replaced: boolean; entries: ProgressEntry[] };
    try {
      const st = await handle.stat();
      const replaced = st.ino !== this.#ino || st.size < this.#offset;
      if (replaced) this.#reset(st.ino);
      if (st.size === this.#offset) {
        this.#health.tornBytes = 0;
        return { replaced, entries: [] };
      }
      const chunk = parseJournalChunk(await readRange(handle, this.#offset, st.size), this.path);
      this.#offset += chunk.consumed;
      this.#health = {
        records: this.#health.records + chunk.entries.length,
        badLines: this.#health.badLines + chunk.badLines,
        tornBytes: chunk.tornBytes,
      };
      result = { replaced, entries: chunk.entries };
    } finally {
      await handle.close();
    }
    if (repair && this.#health.tornBytes > 0) {
      await truncate(this.path, this.#offset);
      this.#health.tornBytes = 0;
    }
    return result;
  }

  /** Append entries (the header first when the file is new): one write + fsync. Call after read(true), under the lock. */
  async append(entries: readonly ProgressEntry[]): Promise<void> {
    const creating = this.#ino === undefined;
    const text = (creating ? headerLine() : '') + entries.map(entryLine).join('');
    const handle = await open(this.path, 'a', 0o644);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
      if (creating) this.#ino = (await handle.stat()).ino;
    } finally {
      await handle.close();
    }
    if (creating) await fsyncDir(path.dirname(this.path));
    this.#offset += Buffer.byteLength(text);
    this.#health.records += entries.length;
  }

  /** Replace the file by one holding `entries` (temp file + fsync + rename), under the lock. */
  async rewrite(entries: readonly ProgressEntry[]): Promise<void> {
    const text = headerLine() + entries.map(entryLine).join('');
    await writeFileAtomic(this.path, text);
    const handle = await open(this.path, 'r');
    try {
      this.#reset((await handle.stat()).ino);
    } finally {
      await handle.close();
    }
    this.#offset = Buffer.byteLength(text);
    this.#health.records = entries.length;
  }

  #reset(ino: number | undefined): void {
    this.#ino = ino;
    this.#offset = 0;
    this.#health = { records: 0, badLines: 0, tornBytes: 0 };
  }
}
