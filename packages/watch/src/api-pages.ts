import type { FailureRow } from '@joules/tracker/follow';
import { EXPERIMENT_STATUSES, type ExperimentStatus, type ExperimentView, type ResultView } from './views.js';
import type { WatchState } from './watch-state.js';

/** One page of a full list: `items` are [offset, offset + limit) of `total`. */
export interface Page<T> {
  offset: number;
  limit: number;
  total: number;
  items: T[];
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** `?offset=&limit=` (defaults 0 and DEFAULT_PAGE, at most MAX_PAGE); a message when they are not whole numbers. */
function paging(url: URL): { offset: number; limit: number } | string {
  const read = (name: string, fallback: number) => {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') return fallback;
    return /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  };
  const offset = read('offset', 0);
  const limit = read('limit', DEFAULT_PAGE);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(limit) || limit < 1)
    return 'offset and limit: whole numbers (limit at least 1)';
  return { offset, limit: Math.min(limit, MAX_PAGE) };
}

const slice = <T>(all: readonly T[], p: { offset: number; limit: number }): Page<T> => ({
  ...p,
  total: all.length,
  items: all.slice(p.offset, p.offset + p.limit),
});

/**
 * `/api/experiments?offset=&limit=&status=`: every experiment (journal keys in journal order, then
 * results and final failures the journal does not know), optionally of one status.
 */
export function experimentsPage(state: WatchState, url: URL): Page<ExperimentView> | string {
  const p = paging(url);
  if (typeof p === 'string') return p;
  const status = url.searchParams.get('status') || undefined;
  if (status !== undefined && !EXPERIMENT_STATUSES.includes(status as ExperimentStatus))
    return `status: one of ${EXPERIMENT_STATUSES.join(', ')}`;
  const items: ExperimentView[] = [];
  let total = 0;
  state.eachExperiment(status as ExperimentStatus | undefined, (view) => {
    if (total >= p.offset && items.length < p.limit) items.push(view());
    total++;
    return true;
  });
  return { ...p, total, items };
}

/** `/api/results?offset=&limit=`: every result row (the columns the page shows), in file order. */
export function resultsPage(state: WatchState, url: URL): Page<ResultView> | string {
  const p = paging(url);
  if (typeof p === 'string') return p;
  const items = state.results.slice(p.offset, p.offset + p.limit).map((r) => state.resultView(r));
  return { ...p, total: state.results.length, items };
}

/** `/api/failures?offset=&limit=`: every row of failed_experiments.csv (each failed attempt), oldest first. */
export function failuresPage(state: WatchState, url: URL): Page<FailureRow> | string {
  const p = paging(url);
  return typeof p === 'string' ? p : slice(state.failures, p);
}
