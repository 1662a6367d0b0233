import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readCsvColumn } from '../csv-read.js';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Experiment ids acknowledged by a CSV of the results folder: rows of `<csvBase>` and of the
 * files it was rotated to (`<stem>.<stamp>.csv`). Reads them whole: for resume, not per row.
 */
export async function acknowledgedIds(root: string, csvBase: string): Promise<Set<string>> {
  const stem = csvBase.replace(/\.csv$/, '');
  const pattern = new RegExp(`^${escapeRegExp(stem)}(\\.[^/]+)?\\.csv$`);
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => pattern.test(n));
  const ids = new Set<string>();
  for (const name of names) {
    for (const id of (await readCsvColumn(path.join(root, name), 'experiment_id')) ?? []) ids.add(id);
  }
  return ids;
}
