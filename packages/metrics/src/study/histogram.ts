/** One bin of a histogram: values in [x0, x1) (the last bin also holds x1). */
export interface HistogramBin {
  x0: number;
  x1: number;
  count: number;
}

/**
 * Equal-width bins of the finite `values` over `extent` (default: their min and max), `bins` of
 * them (default 30). Values outside the extent are left out. Pass one extent to several calls to
 * stack histograms of groups on shared bins. No values (or no extent) gives no bins.
 */
export function histogram(
  values: Iterable<number | null>,
  options: { bins?: number; extent?: readonly [number, number] } = {},
): HistogramBin[] {
  const finite: number[] = [];
  for (const v of values) if (v !== null && Number.isFinite(v)) finite.push(v);
  let [lo, hi] = options.extent ?? extentOf(finite);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return [];
  const bins = Math.max(1, Math.floor(options.bins ?? 30));
  if (hi === lo) {
    // One value: one bin around it.
    lo -= 0.5 * Math.abs(lo || 1);
    hi += 0.5 * Math.abs(hi || 1);
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) {
    if (v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  }
  return counts.map((count, b) => ({ x0: lo + b * width, x1: b === bins - 1 ? hi : lo + (b + 1) * width, count }));
}

/** The min and max of finite values ([Infinity, -Infinity] for none). */
export function extentOf(values: Iterable<number | null>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
