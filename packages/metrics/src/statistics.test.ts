import { describe, expect, it } from 'vitest';
import { MetricsError } from './errors.js';
import { describeSample } from './statistics.js';
import { studentTCdf, studentTQuantile, tCritical95 } from './student-t.js';

describe("Student's t", () => {
  // Two-sided 95 % critical values t_{0.975, df} from published tables (NIST/SEMATECH e-Handbook 1.3.6.7.2).
  it.each([
    [1, 12.706204736],
    [2, 4.30265273],
    [3, 3.182446305],
    [4, 2.776445105],
    [5, 2.570581836],
    [9, 2.262157163],
    [10, 2.228138852],
    [29, 2.045229642],
    [100, 1.983971519],
  ])('t_{0.975, %i} = %f', (df, t) => {
    expect(tCritical95(df)).toBeCloseTo(t, 8);
  });

  it('tends to the normal 1.959964 as df grows', () => {
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
  });

  it('CDF: symmetric, 0.5 at 0; Cauchy (df 1) has P(T ≤ 1) = 0.75', () => {
    expect(studentTCdf(0, 3)).toBe(0.5);
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12);
    expect(studentTCdf(-2, 7) + studentTCdf(2, 7)).toBeCloseTo(1, 12);
    expect(studentTQuantile(0.025, 2)).toBeCloseTo(-4.30265273, 8);
    expect(studentTQuantile(0.995, 5)).toBeCloseTo(4.032142984, 8); // 99 % two-sided
  });

  it('rejects p outside (0, 1) and df ≤ 0', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(MetricsError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df must be/);
  });
});

describe('describeSample', () => {
  it('three cycles 36, 40, 38 J (README): mean 38, std 2, CV 5.26 %, CI 38 ± 4.3027·2/√3', () => {
    const s = describeSample([36, 40, 38]);
    expect(s.n).toBe(3);
    expect(s.mean).toBe(38);
    expect(s.std).toBe(2); // √(((−2)² + 2² + 0²) / (3 − 1))
    expect(s.cv).toBeCloseTo(2 / 38, 15);
    expect(s.ci95_half_width).toBeCloseTo((4.30265273 * 2) / Math.sqrt(3), 8);
    expect(s.ci95_half_width).toBeCloseTo(4.968275, 6);
    expect(s.ci95_low).toBeCloseTo(33.031725, 6);
    expect(s.ci95_high).toBeCloseTo(42.968275, 6);
  });

  it('two cycles 1 and 3: std √2, so the half width is exactly t_{0.975,1} = 12.706', () => {
    const s = describeSample([1, 3]);
    expect(s.std).toBeCloseTo(Math.SQRT2, 15);
    expect(s.ci95_half_width).toBeCloseTo(12.706204736, 8);
  });

  it('skips nulls; one value has a mean but no spread; none has nothing', () => {
    expect(describeSample([null, 5, null])).toEqual({
      n: 1,
      mean: 5,
      std: null,
      cv: null,
      ci95_low: null,
      ci95_high: null,
      ci95_half_width: null,
    });
    expect(describeSample([null])).toMatchObject({ n: 0, mean: null });
    expect(describeSample([])).toMatchObject({ n: 0, mean: null, std: null });
  });

  it('identical cycles: zero spread; mean 0: CV undefined (null)', () => {
    expect(describeSample([4, 4, 4])).toMatchObject({ std: 0, cv: 0, ci95_low: 4, ci95_high: 4 });
    expect(describeSample([-1, 1])).toMatchObject({ mean: 0, cv: null });
  });
});
