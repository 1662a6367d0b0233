import type { RunnerEvent } from '@joules/runner';
import { type FailureRow, type ProgressEntry, progressKey } from '@joules/tracker/follow';
import { ChartAggregates } from './chart-data.js';
import { FolderReader } from './folder-reader.js';
import { LiveRuns } from './live-runs.js';
import { ProgressTally } from './progress-tally.js';
import type { ResultRow } from './result-row.js';
import { ResultStore } from './result-store.js';
import { ServingAggregates } from './serving-data.js';
import {
  type ExperimentStatus,
  type ExperimentView,
  experimentView,
  type ResultView,
  recordedView,
  resultView,
} from './views.js';

/** What one update changed: the delta is made of it. */
export interface StateChanges {
  /** Everything was read again: send the whole status. */
  reset: boolean;
  /** Experiments whose view may have changed (journal entries, live runs started or ended, a process found dead). */
  keys: Set<string>;
  results: ResultRow[];
  failures: FailureRow[];
}

/** Everything the watch knows: the folder as followed, its counts and chart aggregates, and the live run. */
export class WatchState {
  readonly reader: FolderReader;
  readonly live = new LiveRuns();
  tally = new ProgressTally();
  chart = new ChartAggregates();
  /** The serving rows' per-configuration figures (the throughput–latency curve, the Pareto front). */
  serving = new ServingAggregates();
  /** Every result row, compact (the columns the page needs), in file order. */
  results = new ResultStore();
  /** Every row of failed_experiments.csv (each failed attempt). */
  failures: FailureRow[] = [];
  badRows = 0;
  /** Sum of energy_total_j by suite ('' for none), and failed attempts by kind: /metrics. */
  energyBySuite = new Map<string, number>();
  failureKinds = new Map<string, number>();
  #liveKeys = new Set<string>();
  /** Nothing read yet: the first update is a whole status. */
  #initial = true;

  private constructor(reader: FolderReader) {
    this.reader = reader;
  }

  static async open(resultsDir: string): Promise<WatchState> {
    return new WatchState(await FolderReader.open(resultsDir));
  }

  /** A runner event; true when the picture changed. A run starting or ending changes its experiment's view (stage and power go in `running`). */
  feed(event: RunnerEvent): boolean {
    const before = new Set(this.live.running.keys());
    const changed = this.live.apply(event);
    for (const key of this.live.running.keys()) if (!before.delete(key)) this.#liveKeys.add(key);
    for (const key of before) this.#liveKeys.add(key);
    return changed;
  }

  /** Read what the folder appended and fold it in; what changed (collected only when no whole status follows). */
  async update(): Promise<StateChanges> {
    const changes: StateChanges = { reset: this.#initial, keys: this.#liveKeys, results: [], failures: [] };
    this.#liveKeys = new Set();
    this.#initial = false;
    await this.reader.refresh({
      reset: () => {
        this.#clear();
        Object.assign(changes, { reset: true, keys: new Set(), results: [], failures: [] });
      },
      entry: (e) => {
        if (this.tally.applyEntry(e) && !changes.reset) changes.keys.add(e.key);
      },
      result: (r) => {
        this.tally.addResult(r);
        this.chart.add(r);
        this.serving.add(r);
        this.results.push(r);
        this.energyBySuite.set(r.suite ?? '', (this.energyBySuite.get(r.suite ?? '') ?? 0) + (r.totalJ ?? 0));
        if (!changes.reset) changes.results.push(r);
      },
      failure: (f) => {
        this.tally.addFailure(f);
        this.failures.push(f);
        this.failureKinds.set(f.kind, (this.failureKinds.get(f.kind) ?? 0) + 1);
        if (!changes.reset) changes.failures.push(f);
      },
      badRow: () => this.badRows++,
    });
    for (const key of this.tally.recheck()) if (!changes.reset) changes.keys.add(key);
    return changes;
  }

  #clear(): void {
    this.tally = new ProgressTally();
    this.chart = new ChartAggregates();
    this.serving = new ServingAggregates();
    this.results = new ResultStore();
    this.failures = [];
    this.badRows = 0;
    this.energyBySuite = new Map();
    this.failureKinds = new Map();
  }

  /** The view of an experiment key (journal or live run). */
  view(key: string): ExperimentView {
    return experimentView(key, this.reader.entry(key), this.tally.status(key), this.live);
  }

  /** A result row as listed, with its value of the chart's factor. */
  resultView(r: ResultRow): ResultView {
    return resultView(r, this.chart.factorValue(r.config, this.chart.chart().factor.field));
  }

  /** Running experiments: the journal's (process alive) and the live run's. */
  running(): ExperimentView[] {
    const keys = new Set([...this.tally.runningKeys(), ...this.live.running.keys()]);
    return [...keys].map((k) => this.view(k)).filter((v) => v.status === 'running');
  }

  /**
   * Every experiment, in order: the journal's keys, then result rows and final failures it does not
   * cover (as ProgressTally counts them); optionally of one status. `visit` returns false to stop.
   */
  eachExperiment(status: ExperimentStatus | undefined, visit: (view: () => ExperimentView) => boolean): void {
    for (const entry of this.reader.entries()) {
      if (status && this.#shown(entry) !== status) continue;
      if (!visit(() => this.view(entry.key))) return;
    }
    if (!status || status === 'done') {
      for (const r of this.results) {
        if (this.#journaled(r)) continue;
        if (!visit(() => recordedView(r, 'done'))) return;
      }
    }
    if (!status || status === 'failed') {
      const seen = new Set<string>();
      for (const f of this.failures) {
        if (!f.final || seen.has(f.experimentId) || this.tally.coversPair(f.modelName, f.configName)) continue;
        seen.add(f.experimentId);
        const row = { id: f.experimentId, suite: null, model: f.modelName, config: f.configName, cycle: null };
        if (!visit(() => recordedView(row, 'failed'))) return;
      }
    }
  }

  #shown(entry: ProgressEntry): ExperimentStatus | undefined {
    const status = this.tally.status(entry.key);
    return status === 'pending' && this.live.running.has(entry.key) ? 'running' : status;
  }

  #journaled(r: ResultRow): boolean {
    try {
      return (
        this.reader.entry(
          progressKey({ model_name: r.model, suite: r.suite, config_name: r.config, cycle_id: r.cycle }),
        ) !== undefined
      );
    } catch {
      return false;
    }
  }
}
