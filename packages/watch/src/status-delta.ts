import type { ChartData } from './chart-data.js';
import type { ServingData } from './serving-data.js';
import type { StateChanges, WatchState } from './watch-state.js';
import { MAX_DELTA_EXPERIMENTS, RECENT, type WatchDelta, type WatchStatus } from './watch-status.js';

const WHOLE = ['live', 'suite', 'progress', 'counts', 'running', 'power', 'error'] as const;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The items of `next` that changed (by key), or all of them (`replace`) when its head changed or an item is gone. */
function keyedDelta<T extends { key: string }>(
  prevHead: unknown,
  head: unknown,
  before: readonly T[],
  items: T[],
): { items: T[]; replace: boolean } | undefined {
  if (!same(head, prevHead)) return { items, replace: true };
  const old = new Map(before.map((g) => [g.key, JSON.stringify(g)]));
  const changed = items.filter((g) => old.get(g.key) !== JSON.stringify(g));
  const kept = new Set(items.map((g) => g.key));
  if (before.some((g) => !kept.has(g.key))) return { items, replace: true };
  return changed.length ? { items: changed, replace: false } : undefined;
}

/** The chart's groups that changed; all of them when the factor, the grouping or the set of groups changed. */
function chartDelta(prev: ChartData, next: ChartData): WatchDelta['chart'] {
  const { groups, ...head } = next;
  const { groups: before, ...prevHead } = prev;
  const d = keyedDelta(prevHead, head, before, groups);
  return d && { ...head, groups: d.items, replace: d.replace };
}

/** The serving points that changed (a new cycle moves a point; a new point may move its series' saturation and front). */
function servingDelta(prev: ServingData | null, next: ServingData | null): WatchDelta['serving'] {
  if (!next) return prev ? null : undefined;
  const { points, ...head } = next;
  if (!prev) return { ...head, points, replace: true };
  const { points: before, ...prevHead } = prev;
  const d = keyedDelta(prevHead, head, before, points);
  return d && { ...head, points: d.items, replace: d.replace };
}

/**
 * What a page that has `prev` needs to reach `next`: the small fields that changed, the rows
 * appended, the experiments changed, the chart groups changed. Undefined when nothing did.
 */
export function statusDelta(
  prev: WatchStatus,
  next: WatchStatus,
  changes: StateChanges,
  state: WatchState,
): WatchDelta | undefined {
  const delta: WatchDelta = { generatedAt: next.generatedAt };
  let changed = false;
  const set = <K extends keyof WatchDelta>(k: K, v: WatchDelta[K]) => {
    delta[k] = v;
    changed = true;
  };
  for (const k of WHOLE) if (!same(prev[k], next[k])) set(k, next[k] as never);
  if (changes.results.length)
    set(
      'results',
      changes.results.slice(-RECENT).map((r) => state.resultView(r)),
    );
  if (changes.failures.length) set('failures', changes.failures.slice(-RECENT));
  if (changes.keys.size > MAX_DELTA_EXPERIMENTS) set('experimentsChanged', true);
  else if (changes.keys.size)
    set(
      'experiments',
      [...changes.keys].filter((k) => state.reader.entry(k) !== undefined).map((k) => state.view(k)),
    );
  const chart = chartDelta(prev.chart, next.chart);
  if (chart) set('chart', chart);
  const serving = servingDelta(prev.serving, next.serving);
  if (serving !== undefined) set('serving', serving);
  return changed ? delta : undefined;
}
