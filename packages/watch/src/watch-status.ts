import type { Eta, FailureRow, ProgressSummary } from '@joules/tracker/follow';
import type { ChartData, ChartGroup } from './chart-data.js';
import type { LiveSuite, PowerReading } from './live-runs.js';
import type { ServingData, ServingPoint } from './serving-data.js';
import type { ExperimentView, ResultView } from './views.js';
import type { WatchState } from './watch-state.js';

/** Results and failures the status carries (the latest); the rest are paged (/api/results, /api/failures). */
export const RECENT = 50;
/** Running experiments the status lists at most. */
export const MAX_RUNNING = 100;

/**
 * `/api/status` and the event stream's first `status` event: a summary whose size does not grow
 * with the number of rows (bounded by models, devices, running experiments, RECENT and the chart's
 * MAX_CHART_GROUPS). The full lists are paged: /api/experiments, /api/results, /api/failures.
 */
export interface WatchStatus {
  resultsDir: string;
  generatedAt: string;
  live: boolean;
  suite: LiveSuite | null;
  /** Every recorded experiment by suite, model and status (journal keys, plus results and final failures it does not know). */
  progress: ProgressSummary & { eta: Eta };
  /** Rows of the results CSVs and of failed_experiments.csv; rows that could not be read. */
  counts: { results: number; failures: number; badRows: number };
  /** Running experiments with their live stage, batch and power (at most MAX_RUNNING; `progress.total.running` counts all). */
  running: ExperimentView[];
  power: PowerReading[];
  chart: ChartData;
  /** Serving rows (engine "server"): per configuration, the throughput–latency curve and the Pareto front (at most MAX_SERVING_POINTS); null when there are none. */
  serving: ServingData | null;
  /** The latest RECENT results and failure rows, oldest first. */
  results: ResultView[];
  failures: FailureRow[];
  /** The last error reading the folder (the watch keeps serving what it had). */
  error: string | null;
}

/**
 * An event stream's `delta` event: only what changed since the previous event. Small fields are
 * sent whole when they changed; lists are appended to; `experiments` are the changed or new
 * experiments (the page patches its rows by key).
 */
export interface WatchDelta {
  generatedAt: string;
  live?: boolean;
  suite?: LiveSuite | null;
  progress?: WatchStatus['progress'];
  counts?: WatchStatus['counts'];
  running?: ExperimentView[];
  power?: PowerReading[];
  error?: string | null;
  /** New results and failure rows (the latest RECENT of them). */
  results?: ResultView[];
  failures?: FailureRow[];
  /** Experiments new or changed (at most MAX_DELTA_EXPERIMENTS; else `experimentsChanged`). */
  experiments?: ExperimentView[];
  /** More experiments changed than a delta lists: fetch the page of /api/experiments again. */
  experimentsChanged?: true;
  /** Groups new or changed; `replace`: the groups are all of them (the factor or grouping changed). */
  chart?: Omit<ChartData, 'groups'> & { groups: ChartGroup[]; replace: boolean };
  /** Serving points new or changed; `replace`: the points are all of them (null: no serving rows any more). */
  serving?: (Omit<ServingData, 'points'> & { points: ServingPoint[]; replace: boolean }) | null;
}

export const MAX_DELTA_EXPERIMENTS = 200;

/** The summary of the state as of now. */
export function buildStatus(
  state: WatchState,
  meta: { resultsDir: string; live: boolean; error: string | null; now?: Date },
): WatchStatus {
  const chart = state.chart.chart();
  return {
    resultsDir: meta.resultsDir,
    generatedAt: (meta.now ?? new Date()).toISOString(),
    live: meta.live,
    suite: state.live.suite,
    progress: state.tally.summary(),
    counts: { results: state.results.length, failures: state.failures.length, badRows: state.badRows },
    running: state.running().slice(0, MAX_RUNNING),
    power: [...state.live.power.values()].sort((a, b) => a.device.localeCompare(b.device)),
    chart,
    serving: state.serving.data(),
    results: state.results.slice(-RECENT).map((r) => state.resultView(r)),
    failures: state.failures.slice(-RECENT),
    error: meta.error,
  };
}
