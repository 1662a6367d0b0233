import { MetricsError } from './errors.js';
import { type CellValue, METRIC_COLUMNS } from './result-record.js';
import { type SampleStatistics, statisticsOf } from './statistics.js';

/** A results-table row with typed values (from toResultRecord or parseResultRecord). */
export type RecordLike = Readonly<Record<string, CellValue | undefined>>;

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

/** How records are grouped: the identity of a record's group, and the key shown for it. */
interface Grouping {
  idOf: (r: RecordLike, i: number) => unknown;
  keyOf: (r: RecordLike, i: number) => Record<string, CellValue>;
}

const byColumns = (by: readonly string[]): Grouping => {
  const single = by.length === 1 ? by[0]! : null;
  return {
    idOf: (r) => (single !== null ? (r[single] ?? null) : JSON.stringify(by.map((c) => r[c] ?? null))),
    keyOf: (r) => Object.fromEntries(by.map((c) => [c, r[c] ?? null])),
  };
};

/** Records ordered group by group: `order[start[g] .. start[g + 1])` are group g's record indices. */
function partition(records: readonly RecordLike[], grouping: Grouping) {
  const ids = new Map<unknown, number>();
  const keys: Record<string, CellValue>[] = [];
  const groupOf = new Int32Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const id = grouping.idOf(r, i);
    let g = ids.get(id);
    if (g === undefined) {
      g = keys.length;
      ids.set(id, g);
      keys.push(grouping.keyOf(r, i));
    }
    groupOf[i] = g;
  }
  const start = new Int32Array(keys.length + 1);
  for (let i = 0; i < records.length; i++) start[groupOf[i]! + 1]!++;
  for (let g = 0; g < keys.length; g++) start[g + 1]! += start[g]!;
  const next = start.slice(0, keys.length);
  const order = new Int32Array(records.length);
  for (let i = 0; i < records.length; i++) order[next[groupOf[i]!]!++] = i;
  return { keys, start, order };
}

/** A metric value as a number, NaN when missing; anything else is an error naming record and column. */
function valueOf(r: RecordLike, column: string, i: number): number {
  const v = r[column];
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (v === null || v === undefined) return Number.NaN;
  throw new MetricsError(
    `record ${i}: column ${column} is ${typeof v} ${JSON.stringify(v)}, not a number (parse CSV rows with parseResultRecord first)`,
    'BAD_RECORD',
  );
}

/**
 * Group records by the given columns and describe each metric per group (n, mean, std, CV, 95 %
 * CI with Student's t). Groups are sorted by their key values. Each group's values of a metric
 * are read once into a small buffer, then mean and Σ (x − mean)² are two passes over it (no
 * matrix of all values: 100,000 records × 80 metrics would be 65 MB to allocate and collect).
 */
export function groupStatistics(records: readonly RecordLike[], options: GroupOptions): GroupStatistics[] {
  return describeGroups(records, byColumns(options.by), options.by, options.metrics ?? METRIC_COLUMNS);
}

function describeGroups(
  records: readonly RecordLike[],
  grouping: Grouping,
  by: readonly string[],
  metrics: readonly string[],
): GroupStatistics[] {
  const M = metrics.length;
  const { keys, start, order } = partition(records, grouping);
  // Same trick as the result rows: clones of one JSON-built object keep a compact shape.
  const template = JSON.parse(JSON.stringify(Object.fromEntries(metrics.map((c) => [c, null])))) as Record<
    string,
    SampleStatistics
  >;
  const out: GroupStatistics[] = [];
  // One group's values of one metric at a time: no matrix of every value (100,000 × 80 doubles).
  let largest = 0;
  for (let g = 0; g < keys.length; g++) largest = Math.max(largest, start[g + 1]! - start[g]!);
  const buffer = new Float64Array(largest);
  for (let g = 0; g < keys.length; g++) {
    const from = start[g]!;
    const to = start[g + 1]!;
    const described = { ...template };
    for (let j = 0; j < M; j++) {
      const column = metrics[j]!;
      let n = 0;
      let total = 0;
      for (let k = from; k < to; k++) {
        const i = order[k]!;
        const v = valueOf(records[i]!, column, i);
        if (v === v) {
          buffer[n++] = v;
          total += v;
        }
      }
      const m = n ? total / n : 0;
      let squares = 0;
      for (let k = 0; k < n; k++) squares += (buffer[k]! - m) * (buffer[k]! - m);
      described[metrics[j]!] = statisticsOf(n, m, squares);
    }
    out.push({ key: keys[g]!, n: to - from, metrics: described });
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

/**
 * Statistics over the repeated cycles of each configuration, grouped by the effective config
 * hash: a cycle that ran with a halved batch size after an OOM is never averaged with the
 * cycles that ran as planned.
 */
export function cycleStatistics(
  records: readonly RecordLike[],
  options: { metrics?: readonly string[] } = {},
): CycleStatistics[] {
  const hashes = records.map((r, i) => effectiveHashOf(r, i));
  const first = new Map<string, RecordLike>();
  const cycles = new Map<string, Set<number | null>>();
  const planned = new Map<string, Set<string>>();
  records.forEach((r, i) => {
    const hash = hashes[i]!;
    if (!first.has(hash)) first.set(hash, r);
    const id = r.cycle_id ?? null;
    if (id !== null && typeof id !== 'number')
      throw new MetricsError(`record ${i}: cycle_id is not a number`, 'BAD_RECORD');
    let set = cycles.get(hash);
    if (!set) cycles.set(hash, (set = new Set()));
    set.add(id);
    let plan = planned.get(hash);
    if (!plan) planned.set(hash, (plan = new Set()));
    plan.add(typeof r.config_hash === 'string' && r.config_hash !== '' ? r.config_hash : hash);
  });
  const grouping: Grouping = {
    idOf: (_r, i) => hashes[i],
    keyOf: (_r, i) => ({ effective_config_hash: hashes[i]! }),
  };
  return describeGroups(records, grouping, ['effective_config_hash'], options.metrics ?? METRIC_COLUMNS).map((g) => {
    const hash = g.key.effective_config_hash as string;
    const r = first.get(hash)!;
    return {
      ...g,
      effective_config_hash: hash,
      config_hash: typeof r.config_hash === 'string' && r.config_hash !== '' ? r.config_hash : hash,
      config_hashes: [...planned.get(hash)!].sort(),
      config_name: r.config_name ?? null,
      model_name: r.model_name ?? null,
      cycle_ids: [...cycles.get(hash)!].sort(compareCells),
    };
  });
}
