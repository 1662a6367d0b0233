import type { CellValue } from '../result-record.js';

/** A column whose value differs between the rows given (e.g. configurations): a factor a study varied. */
export interface VaryingFactor {
  column: string;
  /** Its distinct values, sorted: numbers ascending, then strings, then booleans, null last. */
  levels: CellValue[];
}

const rank = (v: CellValue): number => (v === null ? 3 : typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);

/** Sort order of cell values: numbers ascending, strings (numeric-aware), booleans, null last. */
export function compareLevels(a: CellValue, b: CellValue): number {
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b, 'en', { numeric: true });
  return a === b ? 0 : a ? 1 : -1;
}

/**
 * The columns among `columns` that take two or more distinct values over `rows` (null counts as a
 * value: a column set for some rows and empty for others varies), with their sorted levels, in the
 * order of `columns`.
 */
export function varyingFactors(
  rows: readonly Readonly<Record<string, CellValue | undefined>>[],
  columns: readonly string[],
): VaryingFactor[] {
  const out: VaryingFactor[] = [];
  for (const column of columns) {
    const seen = new Set<CellValue>();
    for (const r of rows) seen.add(r[column] ?? null);
    if (seen.size >= 2) out.push({ column, levels: [...seen].sort(compareLevels) });
  }
  return out;
}
