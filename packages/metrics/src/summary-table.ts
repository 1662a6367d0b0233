import type { CellValue } from './result-record.js';
import { METRIC_COLUMNS } from './result-record.js';
import type { SampleStatistics } from './statistics.js';
import { type GroupOptions, type GroupStatistics, groupStatistics, type RecordLike } from './summaries.js';

export type StatName = keyof SampleStatistics;

/** A plain table: `columns` in order, one object per row keyed by those columns. */
export interface SummaryTable {
  columns: string[];
  rows: Record<string, CellValue>[];
}

export const DEFAULT_SUMMARY_STATS: readonly StatName[] = ['mean', 'std', 'cv', 'ci95_low', 'ci95_high'];

/**
 * Flatten group statistics into a table: the group columns, `n` (records in the group), then
 * `<metric>_<stat>` for each metric and stat (e.g. `energy_total_j_mean`, `energy_total_j_ci95_low`).
 */
export function summaryTable(
  groups: readonly GroupStatistics[],
  options: { stats?: readonly StatName[]; by?: readonly string[]; metrics?: readonly string[] } = {},
): SummaryTable {
  const stats = options.stats ?? DEFAULT_SUMMARY_STATS;
  const by = options.by ?? Object.keys(groups[0]?.key ?? {});
  const metrics = options.metrics ?? Object.keys(groups[0]?.metrics ?? {});
  const columns = [...by, 'n', ...metrics.flatMap((m) => stats.map((s) => `${m}_${s}`))];
  const rows = groups.map((g) => {
    const row: Record<string, CellValue> = {};
    for (const c of by) row[c] = g.key[c] ?? null;
    row.n = g.n;
    for (const m of metrics) {
      const described = g.metrics[m];
      for (const s of stats) row[`${m}_${s}`] = described ? described[s] : null;
    }
    return row;
  });
  return { columns, rows };
}

/**
 * A summary across many experiments: group by columns (model, config, …) and give each metric's
 * mean over the group's records (the mean of cycles when grouping by config) with its spread.
 */
export function summarizeResults(
  records: readonly RecordLike[],
  options: GroupOptions & { stats?: readonly StatName[] },
): SummaryTable {
  const metrics = options.metrics ?? METRIC_COLUMNS;
  return summaryTable(groupStatistics(records, { by: options.by, metrics }), {
    by: options.by,
    metrics,
    ...(options.stats && { stats: options.stats }),
  });
}
