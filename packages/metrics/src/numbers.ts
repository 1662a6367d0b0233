/** Small numeric helpers that never return NaN or ±Infinity (null instead). */

/** a / b, or null when b is 0, either side is null, or the result is not finite. */
export function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || b === 0) return null;
  const r = a / b;
  return Number.isFinite(r) ? r : null;
}

export function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

export function mean(values: readonly number[]): number | null {
  return values.length ? sum(values) / values.length : null;
}

/** Percentile of already sorted values, linear interpolation between closest ranks. */
function sortedPercentile(sorted: readonly number[], q: number): number {
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const a = sorted[lo]!;
  const b = sorted[Math.ceil(pos)]!;
  return a + (b - a) * (pos - lo);
}

/** Percentile with linear interpolation between closest ranks (numpy's default), q in [0, 100]. */
export function percentile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  return sortedPercentile(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** Mean, percentiles (numpy's linear interpolation), min and max of a sample; all null when empty. */
export interface Distribution {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
}

export function distribution(values: readonly number[]): Distribution {
  if (!values.length) return { mean: null, p50: null, p90: null, p99: null, min: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: sum(sorted) / sorted.length,
    p50: sortedPercentile(sorted, 50),
    p90: sortedPercentile(sorted, 90),
    p99: sortedPercentile(sorted, 99),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

export const JOULES_PER_KWH = 3_600_000;
export const JOULES_PER_WH = 3_600;
