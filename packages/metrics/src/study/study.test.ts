import { describe, expect, it } from 'vitest';
import { describeSample } from '../statistics.js';
import { extremes, paretoFront } from './extremes.js';
import { extentOf, histogram } from './histogram.js';
import { pooledMoments } from './pooled-statistics.js';
import { compareLevels, varyingFactors } from './varying-factors.js';

describe('varyingFactors', () => {
  it('keeps the columns with two or more values, levels sorted, null last', () => {
    const rows = [
      { batch_size: 8, precision: 'fp16', num_processes: 1, load_rate: null },
      { batch_size: 1, precision: 'fp16', num_processes: 1, load_rate: 2 },
      { batch_size: 16, precision: 'fp16', num_processes: 1 },
    ];
    expect(varyingFactors(rows, ['precision', 'batch_size', 'num_processes', 'load_rate'])).toEqual([
      { column: 'batch_size', levels: [1, 8, 16] },
      { column: 'load_rate', levels: [2, null] },
    ]);
  });

  it('orders strings numerically aware, numbers before strings', () => {
    expect(['m-10', 'm-2', null, 3, 'm-1'].sort(compareLevels)).toEqual([3, 'm-1', 'm-2', 'm-10', null]);
  });
});

describe('pooledMoments', () => {
  it('equals the moments of the concatenated samples', () => {
    const parts = [[1, 2, 3], [10], [4, 4.5, 7, 8], []];
    const moments = parts.map((p) => {
      const s = describeSample(p);
      const mean = s.mean ?? 0;
      return { n: p.length, mean, squares: p.reduce((a, v) => a + (v - mean) ** 2, 0) };
    });
    const all = parts.flat();
    const pooled = pooledMoments(moments);
    const mean = all.reduce((a, v) => a + v, 0) / all.length;
    expect(pooled.n).toBe(all.length);
    expect(pooled.mean).toBeCloseTo(mean, 12);
    expect(pooled.squares).toBeCloseTo(
      all.reduce((a, v) => a + (v - mean) ** 2, 0),
      10,
    );
  });

  it('of nothing is n = 0', () => {
    expect(pooledMoments([]).n).toBe(0);
  });
});

describe('extremes and paretoFront', () => {
  it('gives the lowest and highest, skipping nulls', () => {
    const items = [5, null, 1, 9, 3, Number.NaN, 7];
    const { lowest, highest } = extremes(items, (v) => v, 2);
    expect(lowest).toEqual([1, 3]);
    expect(highest).toEqual([9, 7]);
  });

  it('keeps the points no other dominates (x minimised, y maximised)', () => {
    const points = [
      { x: 1, y: 1 },
      { x: 2, y: 5 },
      { x: 2, y: 3 }, // dominated by (2, 5)
      { x: 3, y: 4 }, // dominated by (2, 5)
      { x: 4, y: 9 },
      { x: 0.5, y: null },
      { x: 1, y: 1 }, // equal to the first: the first is kept
    ];
    expect(paretoFront(points)).toEqual([0, 1, 4]);
  });
});

describe('histogram', () => {
  it('counts every value in equal-width bins, the maximum in the last', () => {
    const bins = histogram([0, 1, 2, 3, 4, 10, null], { bins: 5 });
    expect(bins.map((b) => b.count)).toEqual([2, 2, 1, 0, 1]);
    expect(bins[0]).toEqual({ x0: 0, x1: 2, count: 2 });
    expect(bins.at(-1)?.x1).toBe(10);
  });

  it('shares bins across groups given one extent, and handles one value or none', () => {
    expect(histogram([5], { bins: 2, extent: [0, 10] }).map((b) => b.count)).toEqual([0, 1]);
    expect(histogram([3, 3], { bins: 1 })).toEqual([{ x0: 1.5, x1: 4.5, count: 2 }]);
    expect(histogram([])).toEqual([]);
    expect(extentOf([2, null, -1])).toEqual([-1, 2]);
  });
});
