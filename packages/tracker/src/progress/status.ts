import { defaultLiveness, type Liveness } from '../owner.js';
import type { ProgressEntry } from './entry.js';
import { type KeyParts, parseProgressKey } from './key.js';
import { effectiveStatus, type ProgressView } from './resume.js';

export interface StatusCounts {
  total: number;
  done: number;
  failed: number;
  pending: number;
  running: number;
  stale: number;
  interrupted: number;
}

export interface ProgressSummary {
  total: StatusCounts;
  /** One per suite and model, sorted by suite then model. */
  groups: Array<{ suite: string | null; model: string; counts: StatusCounts }>;
}

/** Key parts, or the whole key as the model when it is not a progress key. */
function parts(key: string): KeyParts {
  try {
    return parseProgressKey(key);
  } catch {
    return { model: key, suite: null, config: key, cycle: null };
  }
}

const zero = (): StatusCounts => ({ total: 0, done: 0, failed: 0, pending: 0, running: 0, stale: 0, interrupted: 0 });

/**
 * Counts for `joules status`: done / failed / pending / running / stale / interrupted, in all and
 * per suite and model. With `keys` (the suite as expanded now) only those are counted, and a key
 * not in the journal yet counts as pending; without, every key of the journal.
 */
export function summarizeProgress(
  progress: ProgressView,
  options: { keys?: Iterable<string>; liveness?: Liveness } = {},
): ProgressSummary {
  const liveness = options.liveness ?? defaultLiveness;
  const total = zero();
  const groups = new Map<string, { suite: string | null; model: string; counts: StatusCounts }>();
  const count = (key: string, entry: ProgressEntry | undefined) => {
    const status = entry ? effectiveStatus(entry, liveness) : 'pending';
    const { suite, model } = parts(key);
    const id = JSON.stringify([suite, model]);
    let group = groups.get(id);
    if (!group) {
      group = { suite, model, counts: zero() };
      groups.set(id, group);
    }
    for (const c of [total, group.counts]) {
      c.total++;
      c[status]++;
    }
  };
  if (options.keys) for (const key of options.keys) count(key, progress.get(key));
  else for (const entry of progress.entries()) count(entry.key, entry);
  const sorted = [...groups.values()].sort(
    (a, b) => (a.suite ?? '').localeCompare(b.suite ?? '') || a.model.localeCompare(b.model),
  );
  return { total, groups: sorted };
}

export interface Eta {
  /** Estimated seconds for the remaining keys; null without any finished experiment to go by. */
  seconds: number | null;
  /** Finished experiments the estimate rests on. */
  basedOn: number;
}

/**
 * Time left for `remaining` keys, from how long done ones took (latest attempt, start to finish):
 * the mean of the same model and config if known, else of the same model, else of all; divided
 * by `concurrency`.
 */
export function estimateRemaining(
  progress: ProgressView,
  remaining: Iterable<string>,
  options: { concurrency?: number } = {},
): Eta {
  const byConfig = new Map<string, number[]>();
  const byModel = new Map<string, number[]>();
  const all: number[] = [];
  const add = (map: Map<string, number[]>, k: string, v: number) => (map.get(k) ?? map.set(k, []).get(k)!).push(v);
  for (const e of progress.entries()) {
    if (e.status !== 'done' || !e.startedAt || !e.finishedAt) continue;
    const seconds = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
    if (!Number.isFinite(seconds) || seconds < 0) continue;
    const { model, config } = parts(e.key);
    add(byConfig, `${model}\n${config}`, seconds);
    add(byModel, model, seconds);
    all.push(seconds);
  }
  if (all.length === 0) return { seconds: null, basedOn: 0 };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  let seconds = 0;
  for (const key of remaining) {
    const { model, config } = parts(key);
    seconds += mean(byConfig.get(`${model}\n${config}`) ?? byModel.get(model) ?? all);
  }
  return { seconds: seconds / Math.max(1, options.concurrency ?? 1), basedOn: all.length };
}
