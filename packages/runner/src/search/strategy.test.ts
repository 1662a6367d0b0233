import type { SearchSpec } from '@joules/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bisectStep } from './bisect-strategy.js';
import { searchResult } from './search-outcome.js';
import type { SearchPoint, Verdict } from './search-space.js';
import { judgePoint, type NumericRow } from './search-verdict.js';
import { strategyStep } from './strategy-step.js';

const spec = (over: Partial<SearchSpec> = {}): SearchSpec => ({
  objective: 'energy_per_token_j',
  constraints: [{ column: 'latency_p90_s', op: '<=', value: 1 }],
  axes: {},
  bisect: 'batch_size',
  strategy: 'bisect',
  seed: 0,
  saturation: { rates: 3, concurrency: 16, pattern: 'constant' },
  ...over,
});

/** contexts × loads points; `landscape(context, loadIndex)` gives the row each would measure. */
function space(contexts: number, loads: number): SearchPoint[] {
  const out: SearchPoint[] = [];
  for (let c = 0; c < contexts; c++)
    for (let i = 0; i < loads; i++)
      out.push({
        id: `m::c${c}-l${i}`,
        model: 'm',
        config: `c${c}-l${i}`,
        context: `c${c}`,
        load: 2 ** i,
        factors: { ctx: c, batch_size: 2 ** i },
      });
  return out;
}

type Landscape = (point: SearchPoint) => NumericRow;

/** Run a strategy to the end against a landscape: the order it asked for points, and the result. */
function drive(points: SearchPoint[], landscape: Landscape, s: SearchSpec) {
  const verdicts = new Map<string, Verdict>();
  const rows = new Map<string, NumericRow[]>();
  const order: string[] = [];
  const pruned = new Map<string, unknown>();
  for (let round = 0; round < 1000; round++) {
    const step = strategyStep(points, verdicts, s);
    for (const p of step.pruned) pruned.set(p.id, p);
    if (step.done) break;
    for (const id of step.propose) {
      const point = points.find((p) => p.id === id)!;
      const r = [landscape(point)];
      order.push(id);
      rows.set(id, r);
      verdicts.set(id, judgePoint(r, s));
    }
  }
  const result = searchResult({
    suite: 's',
    spec: s,
    cycles: 1,
    points,
    gridPoints: points.length,
    verdicts,
    rows,
    pruned: [...pruned.values()] as never,
  });
  return { order, result };
}

/** Monotone landscapes: latency grows with load, energy per token falls with it, each context its own scale. */
const monotone =
  (limits: number[], scales: number[]): Landscape =>
  (p) => {
    const c = Number(p.factors.ctx);
    const i = Math.log2(p.load!);
    return { latency_p90_s: i <= limits[c]! ? 0.5 : 2, energy_per_token_j: scales[c]! / (1 + i) };
  };

describe('bisection strategy', () => {
  it('picks the same best point as the exhaustive grid on monotone landscapes, with no more runs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: -1, max: 11 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.nat(1000),
        (contexts, loads, limits, scales, seed) => {
          const points = space(contexts, loads);
          const land = monotone(limits, scales);
          const bisect = drive(points, land, spec({ seed }));
          const grid = drive(points, land, spec({ seed, strategy: 'grid', bisect: null }));
          expect(grid.order).toHaveLength(points.length);
          expect(bisect.result.chosen?.id ?? null).toBe(grid.result.chosen?.id ?? null);
          expect(bisect.order.length).toBeLessThanOrEqual(contexts * Math.ceil(Math.log2(loads + 1)));
          expect(new Set(bisect.order).size).toBe(bisect.order.length); // no point twice
        },
      ),
    );
  });

  it('runs fewer experiments than the grid: 3 contexts × 8 loads in 9 runs instead of 24', () => {
    const points = space(3, 8);
    const land = monotone([5, 2, -1], [1, 2, 0.5]);
    const { order, result } = drive(points, land, spec());
    expect(order).toHaveLength(3 * 3);
    expect(result.chosen!.id).toBe('m::c0-l5'); // c2 never meets the SLO; c0's highest feasible load has the least energy
    expect(result.experiments).toEqual({ search: 9, grid: 24 });
  });

  it('a point that fails the SLO prunes the higher loads of its context; one that meets it the lower ones', () => {
    const points = space(1, 8);
    const met: Verdict = { met: true, objective: 1, means: {}, cycles: 1 };
    const failed: Verdict = { met: false, objective: 1, means: {}, cycles: 1 };
    const first = bisectStep(points, new Map(), 0);
    expect(first.propose).toEqual(['m::c0-l3']); // the middle of 8 loads
    const afterFail = bisectStep(points, new Map([['m::c0-l3', failed]]), 0);
    expect(afterFail.pruned).toEqual([4, 5, 6, 7].map((i) => ({ id: `m::c0-l${i}`, reason: 'slo', by: 'm::c0-l3' })));
    expect(afterFail.propose).toEqual(['m::c0-l1']);
    const afterMet = bisectStep(points, new Map([['m::c0-l3', met]]), 0);
    expect(afterMet.pruned).toEqual([0, 1, 2].map((i) => ({ id: `m::c0-l${i}`, reason: 'dominated', by: 'm::c0-l3' })));
    expect(afterMet.propose).toEqual(['m::c0-l5']);
  });

  it('is deterministic: the same seed and results give the same sequence; the seed orders the contexts', () => {
    const points = space(4, 6);
    const land = monotone([1, 3, 5, 0], [1, 1, 1, 1]);
    const a = drive(points, land, spec({ seed: 7 })).order;
    expect(drive(points, land, spec({ seed: 7 })).order).toEqual(a);
    const b = drive(points, land, spec({ seed: 8 })).order;
    expect(new Set(b)).toEqual(new Set(a)); // the same points, in another order of contexts
  });

  it('a point with no results (every cycle failed) fails the SLO', () => {
    expect(judgePoint([], spec()).met).toBe(false);
    expect(judgePoint([{ latency_p90_s: 0.9, energy_per_token_j: 1 }, { latency_p90_s: 1.05 }], spec())).toMatchObject({
      met: true, // mean 0.975 <= 1
      objective: 1,
      cycles: 2,
    });
  });
});

describe('one server setting at a time', () => {
  /** contexts × loads points, context c on server setting `s<c % servers>`. */
  const served = (contexts: number, loads: number, servers: number) =>
    space(contexts, loads).map((p) => ({ ...p, server: `s${Number(p.factors.ctx) % servers}` }));
  /** How often consecutive runs change server setting (each change is a server restart). */
  const switches = (order: string[], points: SearchPoint[]) =>
    order.filter(
      (id, i) => i > 0 && points.find((p) => p.id === id)!.server !== points.find((p) => p.id === order[i - 1])!.server,
    ).length;

  it('bisection finishes one setting before the next, and picks the grid best point with no more runs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -1, max: 9 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.nat(1000),
        (contexts, loads, servers, limits, scales, seed) => {
          const points = served(contexts, loads, servers);
          const land = monotone(limits, scales);
          const bisect = drive(points, land, spec({ seed }));
          const grid = drive(points, land, spec({ seed, strategy: 'grid', bisect: null }));
          const settings = new Set(points.map((p) => p.server)).size;
          expect(switches(bisect.order, points)).toBe(settings - 1);
          expect(switches(grid.order, points)).toBe(settings - 1);
          expect(bisect.result.chosen?.id ?? null).toBe(grid.result.chosen?.id ?? null);
          expect(bisect.order.length).toBeLessThanOrEqual(contexts * Math.ceil(Math.log2(loads + 1)));
          expect(new Set(bisect.order).size).toBe(bisect.order.length);
        },
      ),
    );
  });

  it('is deterministic and the same seed orders the settings the same way', () => {
    const points = served(4, 6, 2);
    const land = monotone([1, 3, 5, 0], [1, 1, 1, 1]);
    const a = drive(points, land, spec({ seed: 3 })).order;
    expect(drive(points, land, spec({ seed: 3 })).order).toEqual(a);
    expect(switches(a, points)).toBe(1);
  });

  it('saturation: both probes and the rates of one setting before the next setting', () => {
    const points: SearchPoint[] = ['a', 'b'].flatMap((s) =>
      (['sync', 'throughput'] as const).map((role) => ({
        id: `m::${s}__${role}`,
        model: 'm',
        config: `${s}__${role}`,
        context: s,
        server: s,
        load: null,
        role,
        factors: { 'server.args': s },
      })),
    );
    const rate = (p: SearchPoint) => (p.role === 'sync' ? 1 : p.role === 'throughput' ? 9 : p.load!);
    const order: string[] = [];
    const verdicts = new Map<string, Verdict>();
    const s = spec({
      strategy: 'saturation',
      bisect: null,
      saturation: { rates: 2, concurrency: 8, pattern: 'constant' },
    });
    for (let i = 0; i < 20; i++) {
      const step = strategyStep(points, verdicts, s);
      for (const d of step.derived) if (!points.some((p) => p.id === d.point.id)) points.push(d.point);
      if (step.done) break;
      for (const id of step.propose) {
        order.push(id);
        const p = points.find((q) => q.id === id)!;
        verdicts.set(id, { met: true, objective: 1, means: { serving_requests_per_s: rate(p) }, cycles: 1 });
      }
    }
    expect(order).toHaveLength(8);
    expect(switches(order, points)).toBe(1);
    expect(points.filter((p) => p.role === 'rate').every((p) => p.server === p.context)).toBe(true);
  });
});

describe('saturation sweep strategy', () => {
  const probes: SearchPoint[] = [
    { id: 'm::sync', model: 'm', config: 'sync', context: 'x', load: null, role: 'sync', factors: {} },
    {
      id: 'm::throughput',
      model: 'm',
      config: 'throughput',
      context: 'x',
      load: null,
      role: 'throughput',
      factors: {},
    },
  ];
  const s = spec({ strategy: 'saturation', bisect: null });

  it('probes first, then `rates` rates evenly between the probes measured request rates', () => {
    expect(strategyStep(probes, new Map(), s).propose).toEqual(['m::sync', 'm::throughput']);
    const v = (rate: number): Verdict => ({
      met: true,
      objective: 1,
      means: { serving_requests_per_s: rate },
      cycles: 1,
    });
    const step = strategyStep(
      probes,
      new Map([
        ['m::sync', v(2)],
        ['m::throughput', v(10)],
      ]),
      s,
    );
    expect(step.propose).toEqual(['m::rate-4', 'm::rate-6', 'm::rate-8']);
    expect(step.derived[0]).toMatchObject({
      from: 'm::sync',
      overrides: { load: { pattern: 'constant', rate: 4, concurrency: null } },
      point: { id: 'm::rate-4', role: 'rate', load: 4 },
    });
    const withRates = [...probes, ...step.derived.map((d) => d.point)];
    const all = new Map([
      ['m::sync', v(2)],
      ['m::throughput', v(10)],
      ['m::rate-4', v(4)],
      ['m::rate-6', v(6)],
      ['m::rate-8', v(7.5)],
    ]);
    expect(strategyStep(withRates, all, s).done).toBe(true);
  });
});
