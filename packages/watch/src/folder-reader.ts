import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type CsvCells,
  CsvTail,
  FAILURE_COLUMNS,
  type FailureRow,
  type ProgressEntry,
  ProgressJournal,
  resultsLayout,
  toFailureRow,
} from '@joules/tracker/follow';
import { Interner, type ParsedResult, RESULT_FIELDS, toResultRow } from './result-row.js';

/** Receives what a results folder appended, one item at a time. */
export interface FolderSink {
  /** What was passed before no longer holds (a CSV replaced or truncated, journal keys gone): the whole folder follows again. */
  reset(): void;
  /** Every journal entry, whenever the journal file changed (an entry changed is another object: compare by identity). */
  entry(entry: ProgressEntry): void;
  /** A result row appended (a whole CSV record; the other columns never decoded). */
  result(row: ParsedResult): void;
  /** A row of failed_experiments.csv appended. */
  failure(row: FailureRow): void;
  /** A row that could not be read (a number column with text, no experiment id): skipped, counted. */
  badRow(): void;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/** The `<task>_results.csv` files of a results folder, sorted. */
async function resultFiles(root: string): Promise<string[]> {
  const names = await readdir(root).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
  return names.filter((n) => n.endsWith('_results.csv')).sort();
}

/**
 * Follows a results folder without writing to it or taking a lock: the progress journal (tailed
 * by ProgressJournal), every `<task>_results.csv` and `failed_experiments.csv` (each by byte
 * offset: only appended records are parsed). `refresh()` passes what changed to a sink; a
 * replaced, truncated or rewritten file makes it pass the whole folder again (after `reset`).
 */
export class FolderReader {
  readonly root: string;
  readonly names = new Interner();
  readonly #journal: ProgressJournal;
  /** Keys in the journal at the last read: fewer now means keys are gone. */
  #keys = 0;
  #journalSignature = '';
  #tails = new Map<string, CsvTail>();
  #failures: CsvTail;
  /** The last refresh threw: what it read is unknown to the caller. */
  #broken = false;

  private constructor(root: string, journal: ProgressJournal) {
    this.root = root;
    this.#journal = journal;
    this.#failures = new CsvTail(resultsLayout(root).failuresCsv, { columns: FAILURE_COLUMNS });
  }

  static async open(resultsDir: string): Promise<FolderReader> {
    const root = resultsLayout(resultsDir).root;
    return new FolderReader(root, await ProgressJournal.open(root));
  }

  /** Every journal entry as last read. */
  entries(): IterableIterator<ProgressEntry> {
    return this.#journal.entries();
  }

  entry(key: string): ProgressEntry | undefined {
    return this.#journal.get(key);
  }

  /** Pass what changed since the last call to `sink` (after a call that threw, the whole folder again). */
  async refresh(sink: FolderSink): Promise<void> {
    if (this.#broken) {
      this.#forget();
      sink.reset();
    }
    this.#broken = true;
    // A file replaced while it was read: read it all again (a few times at most, then fail this call).
    for (let attempt = 0; !(await this.#read(sink)); attempt++) {
      if (attempt === 3) throw new Error(`${this.root} kept changing while it was read`);
      this.#forget();
      sink.reset();
    }
    this.#broken = false;
  }

  /** false: a file was replaced (what was passed may not hold). */
  async #read(sink: FolderSink): Promise<boolean> {
    return (await this.#journalChanges(sink)) && (await this.#readCsvs(sink));
  }

  #forget(): void {
    this.#keys = 0;
    this.#journalSignature = '';
    this.#tails = new Map();
    this.#failures = new CsvTail(resultsLayout(this.root).failuresCsv, { columns: FAILURE_COLUMNS });
  }

  async #journalChanges(sink: FolderSink): Promise<boolean> {
    const file = resultsLayout(this.root).journalFile;
    const st = await stat(file).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
    const signature = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
    if (signature === this.#journalSignature) return true;
    this.#journalSignature = signature;
    await this.#journal.refresh();
    if (this.#journal.size < this.#keys) return false;
    this.#keys = this.#journal.size;
    for (const entry of this.#journal.entries()) sink.entry(entry);
    return true;
  }

  async #readCsvs(sink: FolderSink): Promise<boolean> {
    const files = await resultFiles(this.root);
    if ([...this.#tails.keys()].some((f) => !files.includes(f))) return false;
    const onRecord = (cells: CsvCells) => {
      const row = toResultRow(cells, this.names);
      if (row) sink.result(row);
      else sink.badRow();
    };
    for (const name of files) {
      let tail = this.#tails.get(name);
      if (!tail) {
        tail = new CsvTail(path.join(this.root, name), { columns: RESULT_FIELDS });
        this.#tails.set(name, tail);
      }
      if ((await tail.readCells(onRecord)).replaced) return false;
    }
    const onFailure = (cells: string[]) =>
      sink.failure(toFailureRow(Object.fromEntries(FAILURE_COLUMNS.map((c, i) => [c, cells[i]]))));
    return !(await this.#failures.read(onFailure)).replaced;
  }
}
