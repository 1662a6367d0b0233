/** A sample summarised by its size, mean and Σ (x − mean)² (what statisticsOf takes). */
export interface SampleMoments {
  n: number;
  mean: number;
  squares: number;
}

/**
 * The moments of the union of several samples from each one's moments (Chan et al.'s pairwise
 * update): e.g. the experiments of one factor level from its configurations' n, mean and Σ (x − mean)²,
 * without the raw values. Samples with n = 0 are skipped; none at all gives n = 0, mean NaN.
 */
export function pooledMoments(samples: Iterable<SampleMoments>): SampleMoments {
  let n = 0;
  let mean = Number.NaN;
  let squares = 0;
  for (const s of samples) {
    if (!(s.n > 0)) continue;
    if (n === 0) {
      ({ n, mean, squares } = s);
      continue;
    }
    const total = n + s.n;
    const delta = s.mean - mean;
    mean += (delta * s.n) / total;
    squares += s.squares + (delta * delta * n * s.n) / total;
    n = total;
  }
  return { n, mean, squares };
}
