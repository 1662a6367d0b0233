import type { SearchConstraint, SearchSpec } from '@joules/config';
import { describeSample, type SampleStatistics } from '@joules/metrics';
import { RATE_COLUMN } from './saturation-strategy.js';
import type { Verdict } from './search-space.js';

/** One result row as the search reads it: column → number (null when empty). */
export type NumericRow = Record<string, number | null>;

/** The columns a search reads from each row: objective, constraint columns, throughput figures. */
export function searchColumns(spec: SearchSpec): string[] {
  return [
    ...new Set([
      spec.objective,
      ...spec.constraints.map((c) => c.column),
      RATE_COLUMN,
      'serving_output_tokens_per_s',
      'throughput_tokens_per_s',
    ]),
  ];
}

export const meets = (c: SearchConstraint, v: number | null): boolean =>
  v !== null && (c.op === '<=' ? v <= c.value : v >= c.value);

/**
 * A point's verdict from its rows (one per cycle that produced a result). The SLO is judged on the
 * mean over cycles; a point with no rows (every cycle failed) fails it.
 */
export function judgePoint(rows: readonly NumericRow[], spec: SearchSpec): Verdict {
  const stats = figureStatistics(rows, searchColumns(spec));
  const means = Object.fromEntries(Object.entries(stats).map(([c, s]) => [c, s.mean]));
  const met = rows.length > 0 && spec.constraints.every((c) => meets(c, means[c.column] ?? null));
  return { met, objective: means[spec.objective] ?? null, means, cycles: rows.length };
}

/** n, mean, std and the 95 % interval (Student t) of each column over the rows. */
export function figureStatistics(rows: readonly NumericRow[], columns: readonly string[]) {
  const out: Record<string, SampleStatistics> = {};
  for (const c of columns) out[c] = describeSample(rows.map((r) => r[c] ?? null));
  return out;
}
