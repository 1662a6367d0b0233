import { type KeyParts, type ProgressEntry, parseProgressKey } from '@joules/tracker/follow';
import type { LiveRuns } from './live-runs.js';
import type { ResultRow } from './result-row.js';

export type ExperimentStatus = 'pending' | 'running' | 'done' | 'failed' | 'interrupted' | 'stale';
export const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = [
  'pending',
  'running',
  'done',
  'failed',
  'interrupted',
  'stale',
];

/** One experiment as the page lists it: a journal key, or a result/failure the journal does not know. */
export interface ExperimentView {
  key: string;
  suite: string | null;
  model: string;
  config: string;
  cycle: number | null;
  status: ExperimentStatus;
  experimentId: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Live only: the worker's stage and batch (rank 0), and the devices' power. */
  stage: string | null;
  progress: { phase: string; i: number; n: number } | null;
  power: Array<{ device: string; watts: number }>;
}

/** A recorded result, the columns the page shows. */
export interface ResultView {
  experiment_id: string;
  suite: string | null;
  model: string;
  config_name: string;
  cycle_id: number | null;
  /** Its value of the chart's factor. */
  factor: string | number | null;
  energy_per_token_j: number | null;
  energy_total_j: number | null;
  total_time_s: number | null;
}

export const shortModel = (m: string) => m.split('/').at(-1) ?? m;

export function keyParts(key: string): KeyParts {
  try {
    return parseProgressKey(key);
  } catch {
    return { model: key, suite: null, config: key, cycle: null };
  }
}

/** A journal key (entry undefined: a live run the journal does not know) with what the live run adds. */
export function experimentView(
  key: string,
  entry: ProgressEntry | undefined,
  status: ExperimentStatus | undefined,
  live: LiveRuns,
): ExperimentView {
  const parts = keyParts(key);
  const run = live.running.get(key);
  let shown = status ?? (run ? 'running' : 'pending');
  // The journal is written before the event arrives; a live run is running until its end event.
  if (run && shown === 'pending') shown = 'running';
  const running = shown === 'running';
  return {
    key,
    suite: parts.suite,
    model: shortModel(parts.model),
    config: parts.config,
    cycle: parts.cycle,
    status: shown,
    experimentId: entry?.experimentId ?? run?.experimentId ?? null,
    attempts: entry?.attempts ?? run?.attempt ?? 0,
    startedAt: entry?.startedAt ?? null,
    finishedAt: entry?.finishedAt ?? null,
    stage: running ? (run?.stage ?? null) : null,
    progress: running ? (run?.progress ?? null) : null,
    power: running
      ? [...live.power.values()]
          .filter((p) => p.key === key)
          .sort((a, b) => a.device.localeCompare(b.device))
          .map((p) => ({ device: p.device, watts: p.watts }))
      : [],
  };
}

/** A result row or final failure that no journal key covers (a `joules run` result): done, or failed. */
export function recordedView(
  r: { id: string; suite: string | null; model: string; config: string; cycle: number | null },
  status: 'done' | 'failed',
): ExperimentView {
  return {
    key: `${r.model}::${r.suite ?? ''}::${r.config}::${r.cycle ?? ''}#${r.id}`,
    suite: r.suite,
    model: shortModel(r.model),
    config: r.config,
    cycle: r.cycle,
    status,
    experimentId: r.id,
    attempts: 1,
    startedAt: null,
    finishedAt: null,
    stage: null,
    progress: null,
    power: [],
  };
}

/** A result row as listed, with its value of the chart's factor (ChartAggregates.factorValue). */
export function resultView(r: ResultRow, factor: string | number | null): ResultView {
  return {
    experiment_id: r.id,
    suite: r.suite,
    model: shortModel(r.model),
    config_name: r.config,
    cycle_id: r.cycle,
    factor,
    energy_per_token_j: r.perToken,
    energy_total_j: r.totalJ,
    total_time_s: r.seconds,
  };
}
