import { describe, expect, it } from 'vitest';
import { experiment } from './__fixtures__/helpers.js';
import { GpuPool, gpuNeed } from './gpu-pool.js';

const flush = () => new Promise((r) => setImmediate(r));

/** A small seeded PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('GpuPool', () => {
  it('gpuNeed: CPU needs none; GPU jobs need num_processes GPUs (any from a pool, else their own)', () => {
    expect(gpuNeed(experiment(), true)).toEqual({ count: 0 });
    expect(gpuNeed(experiment({ num_processes: 2, gpu_ids: [5, 6, 7] }), true)).toEqual({ count: 2 });
    expect(gpuNeed(experiment({ num_processes: 2, gpu_ids: [5, 6, 7] }), false)).toEqual({ ids: [5, 6] });
  });

  it('random jobs of 0, 1, 2, 4 and 8 GPUs on 8 GPUs, released in random order: never shared, all served', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rnd = prng(seed);
      const pool = new GpuPool([0, 1, 2, 3, 4, 5, 6, 7]);
      const held = new Map<number, number[]>();
      const needs = Array.from({ length: 25 }, () => [0, 1, 1, 2, 2, 4, 8][Math.floor(rnd() * 7)]!);
      let served = 0;
      needs.forEach((count, job) => {
        void pool.acquire({ count }).then((ids) => {
          const others = new Set([...held.values()].flat());
          expect(ids).toHaveLength(count);
          expect(ids.every((id) => id >= 0 && id < 8 && !others.has(id))).toBe(true);
          held.set(job, ids);
          served++;
        });
      });
      for (let steps = 0; served < needs.length || held.size > 0; steps++) {
        await flush();
        expect(steps, `seed ${seed}: stuck with ${held.size} holders`).toBeLessThan(200);
        expect(pool.inUse()).toEqual([...held.values()].flat().sort((a, b) => a - b));
        const holders = [...held.keys()];
        const job = holders[Math.floor(rnd() * holders.length)];
        if (job === undefined) continue;
        pool.release(held.get(job)!);
        held.delete(job);
      }
      expect(served).toBe(needs.length);
    }
  });

  it('first fit: a 1-GPU job passes a waiting 4-GPU job that does not fit yet', async () => {
    const pool = new GpuPool([0, 1, 2, 3]);
    const a = await pool.acquire({ count: 2 });
    const order: string[] = [];
    const big = pool.acquire({ count: 4 }).then((ids) => {
      order.push('big');
      return ids;
    });
    const small = pool.acquire({ count: 1 }).then((ids) => {
      order.push('small');
      return ids;
    });
    expect(await small).toEqual([2]);
    pool.release(a);
    await flush();
    expect(order).toEqual(['small']);
    pool.release([2]);
    expect(await big).toEqual([0, 1, 2, 3]);
  });

  it('without a pool, a job waits for exactly the GPUs it names', async () => {
    const pool = new GpuPool();
    const a = await pool.acquire({ ids: [0, 1] });
    let granted: number[] | undefined;
    void pool.acquire({ ids: [1, 2] }).then((ids) => (granted = ids));
    expect(await pool.acquire({ ids: [2 + 1] })).toEqual([3]);
    await flush();
    expect(granted).toBeUndefined();
    pool.release(a);
    await flush();
    expect(granted).toEqual([1, 2]);
  });

  it('an aborted waiter leaves the queue and never takes GPUs', async () => {
    const pool = new GpuPool([0]);
    const a = await pool.acquire({ count: 1 });
    const controller = new AbortController();
    const waiting = pool.acquire({ count: 1 }, controller.signal);
    controller.abort('SIGINT');
    await expect(waiting).rejects.toBe('SIGINT');
    pool.release(a);
    expect(pool.inUse()).toEqual([]);
    await expect(pool.acquire({ count: 1 }, AbortSignal.abort('x'))).resolves.toEqual([0]);
  });
});
