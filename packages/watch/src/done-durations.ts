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

/** Two digits at `i` as a number; -1 when they are not digits. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}T/;
let lastDay = '';
let lastDayMs = Number.NaN;

/**
 * Date.parse of an ISO time as toISOString writes it (`YYYY-MM-DDTHH:mm:ss.sssZ`), its time of day
 * read by hand and its day parsed once while it repeats; any other text through Date.parse.
 */
export function isoMillis(s: string): number {
  if (s.length !== 24 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58)
    return Date.parse(s);
  if (s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return Date.parse(s);
  const h = twoDigits(s, 11);
  const m = twoDigits(s, 14);
  const sec = twoDigits(s, 17);
  const ms = twoDigits(s, 20);
  const ms3 = s.charCodeAt(22) - 48;
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || ms < 0 || ms3 < 0 || ms3 > 9) return Date.parse(s);
  if (!s.startsWith(lastDay) || lastDay === '') {
    if (!ISO_DAY.test(s)) return Date.parse(s);
    lastDay = s.slice(0, 11);
    lastDayMs = Date.parse(`${lastDay}00:00:00.000Z`);
  }
  return lastDayMs + ((h * 60 + m) * 60 + sec) * 1000 + ms * 10 + ms3;
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
