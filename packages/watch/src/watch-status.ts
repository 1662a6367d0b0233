import {
  effectiveStatus,
  estimateRemaining,
  type FailureRow,
  type ProgressEntry,
  type ProgressSummary,
  type ProgressView,
  parseProgressKey,
  summarizeProgress,
} from '@joules/tracker';
import { type Factor, variedFactor } from './factor.js';
import type { FolderData } from './folder-reader.js';
import type { LiveRuns, LiveSuite, PowerReading } from './live-runs.js';

/** One experiment of the journal as the page lists it. */
export interface ExperimentView {
  key: string;
  suite: string | null;
  model: string;
  config: string;
  cycle: number | null;
  status: ReturnType<typeof effectiveStatus>;
  experimentId: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Live only: the worker's stage and batch (rank 0), and the devices' power. */
  stage: string | null;
  progress: { phase: string; i: number; n: number } | null;
  power: Array<{ device: string; watts: number }>;
}

/** A recorded result, the columns the page charts. */
export interface ResultView {
  experiment_id: string;
  suite: string | null;
  model: string;
  config_name: string;
  cycle_id: number | null;
  factor: string | number | null;
  energy_per_token_j: number | null;
  energy_total_j: number | null;
  total_time_s: number | null;
}

/** `/api/status`: everything the page shows. */
export interface WatchStatus {
  resultsDir: string;
  generatedAt: string;
  live: boolean;
  suite: LiveSuite | null;
  progress: ProgressSummary & { eta: { seconds: number | null; basedOn: number } };
  experiments: ExperimentView[];
  power: PowerReading[];
  factor: Factor;
  results: ResultView[];
  failures: FailureRow[];
  badRows: number;
  /** The last error reading the folder (the watch keeps serving what it had). */
  error: string | null;
}

const modelName = (m: string) => m.split('/').at(-1) ?? m;

function keyParts(key: string) {
  try {
    return parseProgressKey(key);
  } catch {
    return { model: key, suite: null, config: key, cycle: null };
  }
}

export function journalView(entries: readonly ProgressEntry[]): ProgressView {
  const byKey = new Map(entries.map((e) => [e.key, e]));
  return { get: (k) => byKey.get(k), entries: () => byKey.values() };
}

/** The whole picture: the folder as read, plus what only the live run knows. */
export function buildStatus(
  folder: FolderData,
  live: LiveRuns,
  meta: { resultsDir: string; live: boolean; error: string | null; now?: Date },
): WatchStatus {
  const view = journalView(folder.entries);
  const summary = summarizeProgress(view);
  const remaining = folder.entries.filter((e) => e.status !== 'done' && e.status !== 'failed').map((e) => e.key);
  const eta = estimateRemaining(view, remaining);
  const power = [...live.power.values()].sort((a, b) => a.device.localeCompare(b.device));
  const experiments = folder.entries.map((e): ExperimentView => {
    const parts = keyParts(e.key);
    const run = live.running.get(e.key);
    let status = effectiveStatus(e);
    // The journal is written before the event arrives; a live run is running until its end event.
    if (run && status === 'pending') status = 'running';
    return {
      key: e.key,
      suite: parts.suite,
      model: modelName(parts.model),
      config: parts.config,
      cycle: parts.cycle,
      status,
      experimentId: e.experimentId ?? run?.experimentId ?? null,
      attempts: e.attempts,
      startedAt: e.startedAt ?? null,
      finishedAt: e.finishedAt ?? null,
      stage: status === 'running' ? (run?.stage ?? null) : null,
      progress: status === 'running' ? (run?.progress ?? null) : null,
      power:
        status === 'running'
          ? power.filter((p) => p.key === e.key).map((p) => ({ device: p.device, watts: p.watts }))
          : [],
    };
  });
  const factor = variedFactor(folder.results);
  const results = folder.results.map(
    (r): ResultView => ({
      experiment_id: String(r.experiment_id),
      suite: r.suite === null ? null : String(r.suite),
      model: modelName(String(r.model_name)),
      config_name: String(r.config_name),
      cycle_id: typeof r.cycle_id === 'number' ? r.cycle_id : null,
      factor: r[factor.field] as string | number | null,
      energy_per_token_j: num(r.energy_per_token_j),
      energy_total_j: num(r.energy_total_j),
      total_time_s: num(r.total_time_s),
    }),
  );
  return {
    resultsDir: meta.resultsDir,
    generatedAt: (meta.now ?? new Date()).toISOString(),
    live: meta.live,
    suite: live.suite,
    progress: { ...summary, eta },
    experiments,
    power,
    factor,
    results,
    failures: [...folder.failures],
    badRows: folder.badRows,
    error: meta.error,
  };
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
