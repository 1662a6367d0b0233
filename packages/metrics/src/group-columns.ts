import { MetricsError } from './errors.js';
import type { CellValue } from './result-record.js';
import { type SampleStatistics, statisticsOf } from './statistics.js';

/** A results-table row with typed values (from toResultRecord or parseResultRecord). */
export type RecordLike = Readonly<Record<string, CellValue | undefined>>;

/** Records ordered group by group: `order[start[g] .. start[g + 1])` are group g's record indices, ascending. */
export interface Partition {
  /** Each group's first record index, in order of first appearance (the groups' order here). */
  first: Int32Array;
  start: Int32Array;
  order: Int32Array;
}

/** Groups records by `ids[i]` (any value a Map tells apart), groups in order of first appearance. */
export function partition(ids: readonly unknown[]): Partition {
  const index = new Map<unknown, number>();
  const firsts: number[] = [];
  const groupOf = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let g = index.get(id);
    if (g === undefined) {
      g = firsts.length;
      index.set(id, g);
      firsts.push(i);
    }
    groupOf[i] = g;
  }
  const groups = firsts.length;
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < ids.length; i++) start[groupOf[i]! + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const next = start.slice(0, groups);
  const order = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) order[next[groupOf[i]!]!++] = i;
  return { first: Int32Array.from(firsts), start, order };
}

function notANumber(column: string, i: number, v: unknown): MetricsError {
  return new MetricsError(
    `record ${i}: column ${column} is ${typeof v} ${JSON.stringify(v)}, not a number (parse CSV rows with parseResultRecord first)`,
    'BAD_RECORD',
  );
}

/** Records per block: a block's records stay in the CPU cache while they are read and described. */
const BLOCK = 128;

/** The last key order seen (by for-in), and each key's metric index (−1: not a metric). */
interface KeyCache {
  keys: string[];
  slots: number[];
}

/**
 * Reads the metric values of the records `order[from .. to)` into a block, column by column:
 * `values[j * stride + p]` is metric j of the block's record p. A finite number as is, NaN for a
 * missing one (absent, null, undefined, ±Infinity, NaN); anything else is an error naming record and
 * column. Each record is read once, by for-in (its fields in its own order, no lookup per cell);
 * rows of one shape map each key to its metric by one string comparison with the cached key order.
 */
function readBlock(
  records: readonly RecordLike[],
  order: Int32Array,
  from: number,
  to: number,
  metricIndex: ReadonlyMap<string, number>,
  cache: KeyCache,
  values: Float64Array,
  stride: number,
): void {
  const { keys, slots } = cache;
  for (let j = 0; j < metricIndex.size; j++) values.fill(Number.NaN, j * stride, j * stride + (to - from));
  for (let k = from; k < to; k++) {
    const i = order[k]!;
    const r = records[i]!;
    const p = k - from;
    let q = 0;
    for (const key in r) {
      let j: number;
      if (keys[q] === key) j = slots[q]!;
      else {
        j = metricIndex.get(key) ?? -1;
        keys[q] = key;
        slots[q] = j;
      }
      q++;
      if (j < 0) continue;
      const v = r[key];
      if (typeof v === 'number') values[j * stride + p] = Number.isFinite(v) ? v : Number.NaN;
      else if (v !== null && v !== undefined) throw notANumber(key, i, v);
    }
  }
}

/** n, mean and Σ (x − mean)² of the non-NaN values in `values[from .. to)`: two passes, in order. */
function describeSlice(values: Float64Array, from: number, to: number): SampleStatistics {
  let n = 0;
  let total = 0;
  for (let k = from; k < to; k++) {
    const v = values[k]!;
    if (!Number.isNaN(v)) {
      n++;
      total += v;
    }
  }
  const m = n ? total / n : 0;
  let squares = 0;
  if (n)
    for (let k = from; k < to; k++) {
      const v = values[k]!;
      if (!Number.isNaN(v)) squares += (v - m) * (v - m);
    }
  return statisticsOf(n, m, squares);
}

/**
 * Each group's statistics of each metric (n, mean, std, CV, 95 % CI), groups in partition order.
 * Block by block (whole groups, about BLOCK records): the block's values are read into a small
 * column-major Float64Array (each group's values of a metric contiguous), then each group's mean
 * and Σ (x − mean)² are two passes over its slice: the same sums, in the same order, as a
 * straightforward two-pass per group. No matrix of every value (100,000 records × 80 metrics would
 * be 65 MB to allocate and collect), and no object per record.
 */
export function describeColumns(
  records: readonly RecordLike[],
  { start, order }: Partition,
  metrics: readonly string[],
): Record<string, SampleStatistics>[] {
  const groups = start.length - 1;
  const columns = [...new Set(metrics)];
  const metricIndex = new Map(columns.map((c, j) => [c, j]));
  // Clones of one JSON-built object keep one compact shape (an object given 80 keys one by one
  // becomes a slow dictionary).
  const template = JSON.parse(JSON.stringify(Object.fromEntries(columns.map((c) => [c, null])))) as Record<
    string,
    SampleStatistics
  >;
  let stride = BLOCK;
  for (let g = 0; g < groups; g++) stride = Math.max(stride, start[g + 1]! - start[g]!);
  const values = new Float64Array(columns.length * stride);
  const cache: KeyCache = { keys: [], slots: [] };
  const described: Record<string, SampleStatistics>[] = new Array(groups);
  for (let first = 0; first < groups; ) {
    // Groups first .. last − 1: at least one, then as many as fit in a block.
    let last = first + 1;
    while (last < groups && start[last + 1]! - start[first]! <= stride) last++;
    const base = start[first]!;
    readBlock(records, order, base, start[last]!, metricIndex, cache, values, stride);
    for (let g = first; g < last; g++) described[g] = { ...template };
    // Column by column within the block: each store sees one key many times in a row.
    for (let j = 0; j < columns.length; j++) {
      const column = columns[j]!;
      const offset = j * stride - base;
      for (let g = first; g < last; g++)
        described[g]![column] = describeSlice(values, offset + start[g]!, offset + start[g + 1]!);
    }
    first = last;
  }
  return described;
}
