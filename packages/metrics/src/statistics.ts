import { tCritical95 } from './student-t.js';

/**
 * Statistics of one metric over repeated cycles. `std` is the sample standard deviation (n − 1);
 * `cv` = std / |mean|; the 95 % confidence interval of the mean is mean ± t_{0.975, n−1} · std / √n
 * (Student's t at every n: exact for normal samples, and it tends to the normal 1.96 as n grows).
 * Fields that need two values (std, cv, CI) are null for n < 2; cv is null when the mean is 0.
 */
export interface SampleStatistics {
  n: number;
  mean: number | null;
  std: number | null;
  cv: number | null;
  ci95_low: number | null;
  ci95_high: number | null;
  ci95_half_width: number | null;
}

const EMPTY: SampleStatistics = {
  n: 0,
  mean: null,
  std: null,
  cv: null,
  ci95_low: null,
  ci95_high: null,
  ci95_half_width: null,
};

/** n, mean, std, CV and 95 % CI of the finite numbers among `values` (nulls are skipped). */
export function describeSample(values: readonly (number | null)[]): SampleStatistics {
  let n = 0;
  let total = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    n++;
    total += v;
  }
  if (n === 0) return EMPTY;
  const m = total / n;
  let squares = 0;
  if (Number.isFinite(m)) {
    for (const v of values) if (v !== null && Number.isFinite(v)) squares += (v - m) * (v - m);
  }
  return statisticsOf(n, m, squares);
}

/**
 * The statistics of a sample from its size n, its mean and Σ (x − mean)² (for callers that
 * accumulate these themselves, as the group statistics do over columns).
 */
export function statisticsOf(n: number, m: number, squares: number): SampleStatistics {
  // Object literals of one shape, no spread: group statistics make one per group and metric.
  if (n === 0) return EMPTY;
  if (!Number.isFinite(m)) return onlyN(n, null); // overflow of huge values: no finite answer
  if (n === 1) return onlyN(n, m);
  const std = Math.sqrt(squares / (n - 1));
  const half = (tCritical95(n - 1) * std) / Math.sqrt(n);
  return {
    n,
    mean: m,
    std: finiteOrNull(std),
    cv: m === 0 ? null : finiteOrNull(std / Math.abs(m)),
    ci95_low: finiteOrNull(m - half),
    ci95_high: finiteOrNull(m + half),
    ci95_half_width: finiteOrNull(half),
  };
}

const onlyN = (n: number, mean: number | null): SampleStatistics => ({
  n,
  mean,
  std: null,
  cv: null,
  ci95_low: null,
  ci95_high: null,
  ci95_half_width: null,
});

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
