import type { Eta } from '@joules/tracker/follow';

/** Upper bounds (seconds) of the experiment duration histogram. */
export const DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600] as const;

export interface DurationHistogram {
  /** Cumulative: experiments of at most DURATION_BUCKETS[i] seconds. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Done durations of a model, or of one of its configurations, and (configurations) keys still to run. */
export interface DurationCell {
  sum: number;
  n: number;
  remaining: number;
}

export const durationCell = (): DurationCell => ({ sum: 0, n: 0, remaining: 0 });

/** What a journal key adds to the ETA and the histogram. */
export interface DurationShare {
  config: DurationCell;
  model: DurationCell;
  suite: string;
  /** Raw status neither done nor failed. */
  remaining: boolean;
  /** Start to finish of a done entry's latest attempt. */
  seconds: number | null;
}

const mean = (c: DurationCell | undefined) => (c && c.n > 0 ? c.sum / c.n : undefined);

/**
 * The ETA (as estimateRemaining: each key still to run takes the mean of its model and
 * configuration's done ones, else its model's, else all) and the duration histogram per suite,
 * kept up to date one key at a time. The ETA costs one step per configuration, not per key.
 */
export class DoneDurations {
  /** Each configuration's cell → its model's. */
  readonly #configs = new Map<DurationCell, DurationCell>();
  readonly #all = durationCell();
  readonly #bySuite = new Map<string, DurationHistogram>();

  /** Add (`by` 1) or take back (-1) what a key contributes. */
  add(s: DurationShare, by: 1 | -1): void {
    if (s.remaining) {
      s.config.remaining += by;
      this.#configs.set(s.config, s.model);
    }
    if (s.seconds === null) return;
    const seconds = by * s.seconds;
    s.config.sum += seconds;
    s.config.n += by;
    s.model.sum += seconds;
    s.model.n += by;
    this.#all.sum += seconds;
    this.#all.n += by;
    let h = this.#bySuite.get(s.suite);
    if (!h) {
      h = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#bySuite.set(s.suite, h);
    }
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (s.seconds <= DURATION_BUCKETS[i]!) h.buckets[i]! += by;
    h.sum += seconds;
    h.count += by;
  }

  eta(): Eta {
    const all = mean(this.#all);
    if (all === undefined) return { seconds: null, basedOn: 0 };
    let seconds = 0;
    for (const [config, model] of this.#configs)
      if (config.remaining > 0) seconds += config.remaining * (mean(config) ?? mean(model) ?? all);
    return { seconds, basedOn: this.#all.n };
  }

  histograms(): ReadonlyMap<string, DurationHistogram> {
    return this.#bySuite;
  }
}
