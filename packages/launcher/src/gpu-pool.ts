import type { Experiment } from '@joules/config';

/** What a job needs: nothing (CPU), any `count` GPUs of the pool, or exactly these `ids`. */
export type GpuNeed = { count: number } | { ids: readonly number[] };

/** The GPUs a job asks for: num_processes GPUs when it uses GPUs at all. */
export function gpuNeed(experiment: Experiment, pooled: boolean): GpuNeed {
  if (experiment.gpu_ids.length === 0) return { count: 0 };
  return pooled ? { count: experiment.num_processes } : { ids: experiment.gpu_ids.slice(0, experiment.num_processes) };
}

interface Waiter {
  need: GpuNeed;
  resolve: (ids: number[]) => void;
}

/**
 * Hands out GPUs so that no two holders ever share one. With a pool (`[0..7]`) a job gets any
 * `count` free ids (in pool order); without one, a job waits for exactly the ids it names. Waiters are
 * served first-fit in arrival order: a small job may pass a big one that does not fit yet.
 */
export class GpuPool {
  private readonly busy = new Set<number>();
  private readonly waiters: Waiter[] = [];

  constructor(readonly pool?: readonly number[]) {}

  /** Resolves with the ids granted; rejects with the signal's reason if it aborts first. */
  acquire(need: GpuNeed, signal?: AbortSignal): Promise<number[]> {
    const now = this.take(need);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        need,
        resolve: (ids) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(ids);
        },
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(ids: readonly number[]): void {
    for (const id of ids) this.busy.delete(id);
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const ids = this.take(waiter.need);
      if (!ids) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.resolve(ids);
    }
  }

  /** GPUs held right now (for tests and progress). */
  inUse(): number[] {
    return [...this.busy].sort((a, b) => a - b);
  }

  private take(need: GpuNeed): number[] | undefined {
    let ids: number[];
    if ('ids' in need) {
      if (need.ids.some((id) => this.busy.has(id))) return undefined;
      ids = [...need.ids];
    } else {
      ids = (this.pool ?? []).filter((id) => !this.busy.has(id)).slice(0, need.count);
      if (ids.length < need.count) return undefined;
    }
    for (const id of ids) this.busy.add(id);
    return ids;
  }
}
