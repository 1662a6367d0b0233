import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseResultRecord, type ResultRecord } from '@joules/metrics';
import {
  type FailureRow,
  type ProgressEntry,
  ProgressJournal,
  readCsvRecords,
  readFailures,
  resultsLayout,
} from '@joules/tracker';

/** What a results folder holds, as last read. */
export interface FolderData {
  entries: readonly ProgressEntry[];
  results: readonly ResultRecord[];
  failures: readonly FailureRow[];
  /** Rows that could not be read (a cell that is not a number, a torn line): skipped, counted. */
  badRows: number;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Reads a results folder without writing to it or taking a lock: the progress journal (tailed),
 * every `<task>_results.csv` and `failed_experiments.csv`. `refresh()` re-reads only when a file's
 * size or modification time moved.
 */
export class FolderReader {
  readonly root: string;
  readonly #journal: ProgressJournal;
  #signature = '';
  #data: FolderData = { entries: [], results: [], failures: [], badRows: 0 };

  private constructor(root: string, journal: ProgressJournal) {
    this.root = root;
    this.#journal = journal;
  }

  static async open(resultsDir: string): Promise<FolderReader> {
    const root = resultsLayout(resultsDir).root;
    const reader = new FolderReader(root, await ProgressJournal.open(root));
    await reader.refresh();
    return reader;
  }

  get data(): FolderData {
    return this.#data;
  }

  /** Re-read what changed; true when anything did. */
  async refresh(): Promise<boolean> {
    const layout = resultsLayout(this.root);
    const names = await readdir(this.root).catch((e: unknown) => (isMissing(e) ? [] : Promise.reject(e)));
    const resultFiles = names
      .filter((n) => n.endsWith('_results.csv'))
      .sort()
      .map((n) => path.join(this.root, n));
    const files = [layout.journalFile, layout.failuresCsv, ...resultFiles];
    const stats = await Promise.all(
      files.map((f) =>
        stat(f).then(
          (s) => `${f}:${s.size}:${s.mtimeMs}`,
          () => `${f}:-`,
        ),
      ),
    );
    const signature = stats.join('|');
    if (signature === this.#signature) return false;
    this.#signature = signature;
    await this.#journal.refresh();
    let badRows = 0;
    const results: ResultRecord[] = [];
    for (const file of resultFiles) {
      for (const row of await readCsvRecords(file)) {
        try {
          results.push(parseResultRecord(row));
        } catch {
          badRows++;
        }
      }
    }
    const failures = await readFailures(this.root);
    this.#data = { entries: [...this.#journal.entries()], results, failures, badRows };
    return true;
  }
}
