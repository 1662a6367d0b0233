import {
  type Eta,
  effectiveStatus,
  type FailureRow,
  type KeyParts,
  type ProgressEntry,
  type ProgressSummary,
  type StatusCounts,
} from '@joules/tracker/follow';
import {
  DoneDurations,
  type DurationCell,
  type DurationHistogram,
  type DurationShare,
  durationCell,
  isoMillis,
} from './done-durations.js';
import { KeyPrefixes } from './key-prefixes.js';
import type { ResultRow } from './result-row.js';
import { type Group, Unjournaled } from './unjournaled.js';
import { keyParts } from './views.js';

type Status = Exclude<keyof StatusCounts, 'total'>;
interface ConfigInfo {
  durations: DurationCell;
  /** The journal's keys of this model and configuration: cycles (-1 for none) by suite ('' for none). */
  keys: Map<string, Set<number>>;
}
interface ModelInfo {
  durations: DurationCell;
  /** By configuration: the journal has keys of it. */
  configs: Map<string, ConfigInfo>;
  /** By suite ('' for none). */
  groups: Map<string, Group>;
}
/** What the keys of one model, suite and configuration share. */
interface Pair {
  model: string;
  config: string;
  modelInfo: ModelInfo;
  configInfo: ConfigInfo;
  /** Its cycles in the journal (-1 for none). */
  cycles: Set<number>;
  group: Group;
  suite: string;
}
interface KeyState extends DurationShare {
  entry: ProgressEntry;
  status: Status;
  group: Group;
}

const zero = (): StatusCounts => ({ total: 0, done: 0, failed: 0, pending: 0, running: 0, stale: 0, interrupted: 0 });

function durationOf(e: ProgressEntry): number | null {
  if (e.status !== 'done' || !e.startedAt || !e.finishedAt) return null;
  const s = (isoMillis(e.finishedAt) - isoMillis(e.startedAt)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : null;
}

/**
 * Experiments counted by suite, model and status, kept up to date one change at a time (never a
 * pass over every key): the journal's keys by their status (a running one whose process died is
 * `stale`), plus what the journal does not know — a result row whose key it lacks counts as done,
 * a final failure of a model and configuration it lacks as failed (a folder of `joules run`
 * results). Also the ETA and the duration histogram of done experiments (DoneDurations).
 */
export class ProgressTally {
  readonly #keys = new Map<string, KeyState>();
  readonly #models = new Map<string, ModelInfo>();
  readonly #prefixes = new KeyPrefixes<Pair>();
  readonly #total = zero();
  readonly #running = new Set<string>();
  readonly #unjournaled = new Unjournaled();
  readonly #durations = new DoneDurations();

  /** A journal entry; nothing happens when it is the one already applied (same object). */
  applyEntry(entry: ProgressEntry): boolean {
    const old = this.#keys.get(entry.key);
    if (old?.entry === entry) return false;
    if (old) this.#contribute(old, -1);
    let state: KeyState;
    if (old) state = { ...old, entry };
    else {
      // Keys of the same prefix (its cycles) share a Pair: found without parsing the key again.
      let pair = this.#prefixes.find(entry.key);
      let cycle = this.#prefixes.cycle;
      let newPair = false;
      if (!pair) {
        const parts = keyParts(entry.key);
        newPair = !this.coversPair(parts.model, parts.config);
        pair = this.#pair(parts);
        cycle = parts.cycle ?? -1;
        if (parts.config !== entry.key) this.#prefixes.set(entry.key, pair); // read as a progress key
      }
      pair.cycles.add(cycle);
      state = {
        entry,
        status: 'pending',
        group: pair.group,
        config: pair.configInfo.durations,
        model: pair.modelInfo.durations,
        suite: pair.suite,
        remaining: false,
        seconds: null,
      };
      this.#adopt(entry.key, pair, newPair);
    }
    state.status = effectiveStatus(entry);
    state.remaining = entry.status !== 'done' && entry.status !== 'failed';
    state.seconds = durationOf(entry);
    this.#keys.set(entry.key, state);
    if (entry.status === 'running') this.#running.add(entry.key);
    else this.#running.delete(entry.key);
    this.#contribute(state, 1);
    return true;
  }

  /** A result row: counted as done here only when the journal has no key for it. */
  addResult(row: ResultRow): void {
    // The row's key in the journal? Looked up by its parts (names shared, their hashes cached), not as a new string.
    const model = this.#models.get(row.model);
    if (
      model?.configs
        .get(row.config)
        ?.keys.get(row.suite ?? '')
        ?.has(row.cycle ?? -1)
    )
      return;
    const key = `${row.model}::${row.suite ?? ''}::${row.config}::${row.cycle ?? ''}`;
    const group = this.#group(row.suite, row.model, this.#model(row.model));
    this.#count(group, 'done', 1);
    this.#unjournaled.addRow(key, group);
  }

  /** A failure row: a final one of a model and configuration the journal lacks counts as a failed experiment. */
  addFailure(f: FailureRow): void {
    if (!f.final || this.coversPair(f.modelName, f.configName)) return;
    const group = () => this.#group(null, f.modelName, this.#model(f.modelName));
    const counted = this.#unjournaled.addFailure(f.modelName, f.configName, f.experimentId, group);
    if (counted) this.#count(counted.group, 'failed', 1);
  }

  /** Look again at running entries (their process may have died); the keys whose status changed. */
  recheck(): string[] {
    const changed: string[] = [];
    for (const key of this.#running) {
      const state = this.#keys.get(key)!;
      const status = effectiveStatus(state.entry);
      if (status === state.status) continue;
      this.#count(state.group, state.status, -1);
      this.#count(state.group, status, 1);
      state.status = status;
      changed.push(key);
    }
    return changed;
  }

  /** Keys the journal says are running (their process may have died: `stale`). */
  runningKeys(): Iterable<string> {
    return this.#running;
  }

  /** Does the journal have a key of this model and configuration? */
  coversPair(model: string, config: string): boolean {
    return this.#models.get(model)?.configs.has(config) ?? false;
  }

  /** The effective status of a journal key. */
  status(key: string): Status | undefined {
    return this.#keys.get(key)?.status;
  }

  summary(): ProgressSummary & { eta: Eta } {
    const groups = [...this.#models.values()]
      .flatMap((m) => [...m.groups.values()])
      .filter((g) => g.counts.total > 0)
      .sort((a, b) => (a.suite ?? '').localeCompare(b.suite ?? '') || a.model.localeCompare(b.model))
      .map((g) => ({ suite: g.suite, model: g.model, counts: { ...g.counts } }));
    return { total: { ...this.#total }, groups, eta: this.#durations.eta() };
  }

  durations(): ReadonlyMap<string, DurationHistogram> {
    return this.#durations.histograms();
  }

  #contribute(s: KeyState, by: 1 | -1): void {
    this.#count(s.group, s.status, by);
    this.#durations.add(s, by);
  }

  /** A key new to the journal: what was counted without it (its result rows, its failures) is its now. */
  #adopt(key: string, pair: Pair, newPair: boolean): void {
    const rows = this.#unjournaled.takeRows(key);
    if (rows) this.#count(rows.group, 'done', -rows.n);
    const failed = newPair && this.#unjournaled.takeFailures(pair.model, pair.config);
    if (failed) this.#count(failed.group, 'failed', -failed.n);
  }

  #count(group: Group, status: Status, by: number): void {
    this.#total.total += by;
    this.#total[status] += by;
    group.counts.total += by;
    group.counts[status] += by;
  }

  /** The model, configuration, cycles and group of a key's parts (made when new). */
  #pair(parts: KeyParts): Pair {
    const modelInfo = this.#model(parts.model);
    let configInfo = modelInfo.configs.get(parts.config);
    if (!configInfo) {
      configInfo = { durations: durationCell(), keys: new Map() };
      modelInfo.configs.set(parts.config, configInfo);
    }
    const suite = parts.suite ?? '';
    let cycles = configInfo.keys.get(suite);
    if (!cycles) {
      cycles = new Set();
      configInfo.keys.set(suite, cycles);
    }
    const group = this.#group(parts.suite, parts.model, modelInfo);
    return { model: parts.model, config: parts.config, modelInfo, configInfo, cycles, group, suite };
  }

  #model(name: string): ModelInfo {
    let m = this.#models.get(name);
    if (!m) {
      m = { durations: durationCell(), configs: new Map(), groups: new Map() };
      this.#models.set(name, m);
    }
    return m;
  }

  #group(suite: string | null, model: string, info: ModelInfo): Group {
    let g = info.groups.get(suite ?? '');
    if (!g) {
      g = { suite, model, counts: zero() };
      info.groups.set(suite ?? '', g);
    }
    return g;
  }
}
