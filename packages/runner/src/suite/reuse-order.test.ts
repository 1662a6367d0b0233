import { expandSuite, parseSuite } from '@joules/config';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reuseOrder } from './reuse-order.js';

describe('reuseOrder', () => {
  it("makes each model consecutive within a cycle and keeps each model's seeded order", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ cycle: fc.integer({ min: 1, max: 3 }), model: fc.constantFrom('a', 'b', 'c'), n: fc.nat() }),
          { maxLength: 40 },
        ),
        (raw) => {
          const items = [...raw].sort((x, y) => x.cycle - y.cycle);
          const out = reuseOrder(
            items,
            (x) => x.cycle,
            (x) => x.model,
          );
          expect([...out].sort((x, y) => x.n - y.n || x.model.localeCompare(y.model))).toEqual(
            [...items].sort((x, y) => x.n - y.n || x.model.localeCompare(y.model)),
          );
          for (const cycle of [1, 2, 3]) {
            const inCycle = out.filter((x) => x.cycle === cycle);
            const runs = inCycle.map((x) => x.model).filter((m, i, a) => i === 0 || a[i - 1] !== m);
            expect(new Set(runs).size).toBe(runs.length); // one run (one load) per model per cycle
            for (const m of ['a', 'b', 'c']) {
              expect(inCycle.filter((x) => x.model === m)).toEqual(
                items.filter((x) => x.cycle === cycle && x.model === m),
              );
            }
          }
          expect(out.map((x) => x.cycle)).toEqual(items.map((x) => x.cycle)); // cycles stay in order
        },
      ),
    );
  });

  it('on a shuffled suite: each cycle loads each model once, configs still in a different seeded order per cycle', () => {
    const suite = parseSuite({
      name: 's',
      cycles: 3,
      shuffle: true,
      shuffle_seed: 5,
      models: ['org/a', 'org/b'],
      controlled: { batch_size: [1, 2, 4, 8, 16] },
    }).config!;
    const experiments = expandSuite(suite).experiments;
    const out = reuseOrder(
      experiments,
      (e) => e.cycle,
      (e) => e.experiment.model_name,
    );
    const configs = (cycle: number, model: string) =>
      out.filter((e) => e.cycle === cycle && e.experiment.model_name === model).map((e) => e.experiment.config_name);
    for (const cycle of [1, 2, 3]) {
      const models = out
        .filter((e) => e.cycle === cycle)
        .map((e) => e.experiment.model_name)
        .filter((m, i, a) => i === 0 || a[i - 1] !== m);
      expect(models).toHaveLength(2);
    }
    expect(new Set([1, 2, 3].map((c) => configs(c, 'org/a').join())).size).toBeGreaterThan(1);
  });
});
