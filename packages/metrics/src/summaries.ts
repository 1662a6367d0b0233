import { MetricsError } from './errors.js';
import { describeColumns, partition, type RecordLike } from './group-columns.js';
import { type CellValue, METRIC_COLUMNS } from './result-record.js';
import type { SampleStatistics } from './statistics.js';

export type { RecordLike } from './group-columns.js';

export interface GroupStatistics {
  /** The grouping columns and their values. */
  key: Record<string, CellValue>;
  /** Records in the group (a metric's own `n` skips its nulls). */
  n: number;
  metrics: Record<string, SampleStatistics>;
}

export interface GroupOptions {
  /** Columns to group by, e.g. ["model_name"] or ["config_name", "batch_size"]. */
  by: readonly string[];
  /** Numeric columns to describe; default METRIC_COLUMNS. */
  metrics?: readonly string[];
}

const compareCells = (a: CellValue, b: CellValue): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
};

/**
 * Group records by the given columns and describe each metric per group (n, mean, std, CV, 95 %
 * CI with Student's t). Groups are sorted by their key values.
 */
export function groupStatistics(records: readonly RecordLike[], options: GroupOptions): GroupStatistics[] {
  const { by } = options;
  const single = by.length === 1 ? by[0]! : null;
  const ids = records.map((r) => (single !== null ? (r[single] ?? null) : JSON.stringify(by.map((c) => r[c] ?? null))));
  const groups = partition(ids);
  const described = describeColumns(records, groups, options.metrics ?? METRIC_COLUMNS);
  const out: GroupStatistics[] = [];
  for (let g = 0; g < described.length; g++) {
    const r = records[groups.first[g]!]!;
    const key = Object.fromEntries(by.map((c) => [c, r[c] ?? null]));
    out.push({ key, n: groups.start[g + 1]! - groups.start[g]!, metrics: described[g]! });
  }
  return out.sort((a, b) => {
    for (const c of by) {
      const d = compareCells(a.key[c] ?? null, b.key[c] ?? null);
      if (d !== 0) return d;
    }
    return 0;
  });
}

export interface CycleStatistics extends GroupStatistics {
  /** The effective config hash of the group (what ran; see effectiveHashOf). */
  effective_config_hash: string;
  /** The planned config hash of the group's first record (several when OOM halving met another config). */
  config_hash: string;
  /** Distinct planned hashes in the group, sorted. */
  config_hashes: string[];
  /** Names of the first record of the group (a config renamed between cycles keeps its hash). */
  config_name: CellValue;
  model_name: CellValue;
  /** Distinct cycle ids in the group, sorted (null for records without one). */
  cycle_ids: (number | null)[];
}

/**
 * The hash a record's cycles are grouped by: `effective_config_hash` (the configuration that really
 * ran, e.g. a batch size halved after an OOM), or `config_hash` for rows written before that column.
 */
export function effectiveHashOf(r: RecordLike, i = 0): string {
  const effective = r.effective_config_hash;
  if (typeof effective === 'string' && effective !== '') return effective;
  const hash = r.config_hash;
  if (typeof hash !== 'string' || hash === '')
    throw new MetricsError(`record ${i}: config_hash is missing`, 'BAD_RECORD');
  return hash;
}

const plannedHashOf = (r: RecordLike, effective: string): string =>
  typeof r.config_hash === 'string' && r.config_hash !== '' ? r.config_hash : effective;

/**
 * Statistics over the repeated cycles of each configuration, grouped by the effective config
 * hash: a cycle that ran with a halved batch size after an OOM is never averaged with the
 * cycles that ran as planned.
 */
export function cycleStatistics(
  records: readonly RecordLike[],
  options: { metrics?: readonly string[] } = {},
): CycleStatistics[] {
  const hashes: string[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) hashes[i] = effectiveHashOf(records[i]!, i);
  for (let i = 0; i < records.length; i++) {
    const id = records[i]!.cycle_id ?? null;
    if (id !== null && typeof id !== 'number')
      throw new MetricsError(`record ${i}: cycle_id is not a number`, 'BAD_RECORD');
  }
  const groups = partition(hashes);
  const { start, order } = groups;
  const described = describeColumns(records, groups, options.metrics ?? METRIC_COLUMNS);
  const out: CycleStatistics[] = [];
  for (let g = 0; g < described.length; g++) {
    const hash = hashes[groups.first[g]!]!;
    const r = records[groups.first[g]!]!;
    // A group is a handful of cycles: arrays beat a Set per group.
    const cycleIds: (number | null)[] = [];
    const planned: string[] = [];
    for (let k = start[g]!; k < start[g + 1]!; k++) {
      const record = records[order[k]!]!;
      const id = (record.cycle_id ?? null) as number | null;
      if (!cycleIds.includes(id)) cycleIds.push(id);
      const plan = plannedHashOf(record, hash);
      if (!planned.includes(plan)) planned.push(plan);
    }
    out.push({
      key: { effective_config_hash: hash },
      n: start[g + 1]! - start[g]!,
      metrics: described[g]!,
      effective_config_hash: hash,
      config_hash: plannedHashOf(r, hash),
      config_hashes: planned.sort(),
      config_name: r.config_name ?? null,
      model_name: r.model_name ?? null,
      cycle_ids: cycleIds.sort(compareCells),
    });
  }
  return out.sort((a, b) => compareCells(a.effective_config_hash, b.effective_config_hash));
}
