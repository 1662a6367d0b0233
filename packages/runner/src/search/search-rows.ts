import { type ProgressJournal, readCsvRecords, resultsLayout } from '@joules/tracker';
import type { NumericRow } from './search-verdict.js';

/** How the keys of one point stand in the journal: every one done or failed, and the ids of the done ones. */
export function pointState(journal: ProgressJournal, keys: readonly string[]): { settled: boolean; ids: string[] } {
  const ids: string[] = [];
  let settled = true;
  for (const key of keys) {
    const entry = journal.get(key);
    if (entry?.status === 'done' && entry.experimentId) ids.push(entry.experimentId);
    else if (entry?.status !== 'failed') settled = false;
  }
  return { settled, ids };
}

/**
 * The rows of the results CSV by experiment id, with `columns` as numbers (empty or not a number:
 * null). Read whole at each step of a search: a search has at most a few thousand rows.
 */
export async function readResultRows(resultsDir: string, columns: readonly string[]): Promise<Map<string, NumericRow>> {
  const records = await readCsvRecords(resultsLayout(resultsDir).resultsCsv('text_generation'));
  const out = new Map<string, NumericRow>();
  for (const r of records) {
    const row: NumericRow = {};
    for (const c of columns) {
      const text = r[c];
      const v = text === undefined || text === '' ? Number.NaN : Number(text);
      row[c] = Number.isFinite(v) ? v : null;
    }
    if (r.experiment_id) out.set(r.experiment_id, row);
  }
  return out;
}
