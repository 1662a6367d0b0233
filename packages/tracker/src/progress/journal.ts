import { ProgressStateError } from '../errors.js';
import { allocateExperimentId } from '../experiment-id.js';
import { resultsLayout } from '../layout.js';
import { withLock } from '../lock.js';
import { defaultLiveness, type Liveness } from '../owner.js';
import type { ProgressEntry } from './entry.js';
import { checkItem, finishedEntry, pendingEntries, startedEntry } from './entry-updates.js';
import { JournalFile, type JournalHealth } from './journal-file.js';

export type { JournalHealth } from './journal-file.js';

export interface JournalOptions {
  /** Compact when the file holds more than `compactRatio` records per live key (default 4)… */
  compactRatio?: number;
  /** …and at least this many records (default 1,000). */
  compactMinRecords?: number;
  /** Who is still running (default: pid + start time on this host). */
  liveness?: Liveness;
}

export type StartResult =
  | { started: true; entry: ProgressEntry }
  | { started: false; reason: 'done' | 'running'; entry: ProgressEntry };

const now = () => new Date().toISOString();

/**
 * The progress journal `.joules/progress.jsonl`: one JSON line per update, each a whole entry
 * (the highest `rev` of a key wins). Reading skips a cut last line; an update is one append +
 * fsync under a lock after reading what other processes appended since (never a rewrite), so its
 * cost does not grow with the journal. The file is compacted (atomic rename) when it holds many
 * superseded lines.
 */
export class ProgressJournal {
  readonly resultsDir: string;
  readonly file: string;
  readonly #stateDir: string;
  readonly #ratio: number;
  readonly #minRecords: number;
  readonly #liveness: Liveness;
  readonly #entries = new Map<string, ProgressEntry>();
  readonly #journalFile: JournalFile;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(resultsDir: string, options: JournalOptions) {
    const layout = resultsLayout(resultsDir);
    this.resultsDir = layout.root;
    this.file = layout.journalFile;
    this.#journalFile = new JournalFile(layout.journalFile);
    this.#stateDir = layout.stateDir;
    this.#ratio = options.compactRatio ?? 4;
    this.#minRecords = options.compactMinRecords ?? 1_000;
    this.#liveness = options.liveness ?? defaultLiveness;
  }

  /** Load the journal of a results folder (none yet: empty). Takes no lock. */
  static async open(resultsDir: string, options: JournalOptions = {}): Promise<ProgressJournal> {
    const journal = new ProgressJournal(resultsDir, options);
    await journal.#catchUp(false);
    return journal;
  }

  get size(): number {
    return this.#entries.size;
  }

  get health(): Readonly<JournalHealth> {
    return this.#journalFile.health;
  }

  get(key: string): ProgressEntry | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<ProgressEntry> {
    return this.#entries.values();
  }

  /** Read what other processes appended since the last read. */
  refresh(): Promise<void> {
    return this.#serial(() => this.#catchUp(false));
  }

  /** Add keys not in the journal yet as pending (one append for all); returns how many were written. */
  register(items: readonly { key: string; configHash: string }[]): Promise<number> {
    for (const [i, item] of items.entries()) checkItem(item, `items[${i}]`);
    return this.#mutate(async () => {
      const write = pendingEntries(this.#entries, items, now());
      return { write, result: write.length };
    });
  }

  /**
   * Mark a key running for this process, with a new experiment id (allocated here unless given).
   * Refused when the key is done or running in a live process, unless `force`.
   */
  start(
    key: string,
    options: { configHash: string; experimentId?: string; job?: string; force?: boolean },
  ): Promise<StartResult> {
    checkItem({ key, configHash: options.configHash }, 'start');
    return this.#mutate<StartResult>(async () => {
      const current = this.#entries.get(key);
      if (current && !options.force) {
        if (current.status === 'done') return { write: [], result: { started: false, reason: 'done', entry: current } };
        if (current.status === 'running' && this.#liveness(current.owner, current.job) !== false) {
          return { write: [], result: { started: false, reason: 'running', entry: current } };
        }
      }
      const experimentId = options.experimentId ?? (await allocateExperimentId(this.resultsDir));
      const entry = startedEntry(key, current, { ...options, experimentId }, now());
      return { write: [entry], result: { started: true, entry } };
    });
  }

  /** End the running attempt `experimentId` of a key (refused if another attempt took it over). */
  finish(
    key: string,
    experimentId: string,
    status: 'done' | 'failed' | 'interrupted',
    details: { error?: string; note?: string } = {},
  ): Promise<ProgressEntry> {
    return this.#update(key, experimentId, (current, t) => finishedEntry(current, status, details, t));
  }

  /** Record the scheduler job (e.g. a Slurm job id) of a running attempt. */
  setJob(key: string, experimentId: string, job: string): Promise<ProgressEntry> {
    return this.#update(key, experimentId, (current, t) => ({ ...current, job, rev: current.rev + 1, updatedAt: t }));
  }

  /**
   * Settle `running` entries whose process is dead: `done` when `isCommitted` finds their results
   * acknowledged, else `interrupted` (to be run again). One append for all.
   */
  recoverStale(
    isCommitted: (entry: ProgressEntry) => Promise<boolean>,
  ): Promise<{ done: string[]; interrupted: string[] }> {
    return this.#mutate(async () => {
      const result = { done: [] as string[], interrupted: [] as string[] };
      const write: ProgressEntry[] = [];
      const t = now();
      for (const e of this.#entries.values()) {
        if (e.status !== 'running' || this.#liveness(e.owner, e.job) !== false) continue;
        const committed = e.experimentId !== undefined && (await isCommitted(e));
        const who = e.owner ? `process ${e.owner.pid} on ${e.owner.host}` : 'its process';
        write.push({
          ...e,
          status: committed ? 'done' : 'interrupted',
          rev: e.rev + 1,
          updatedAt: t,
          note: committed ? `${who} died after its results were recorded` : `${who} died while running it`,
        });
        result[committed ? 'done' : 'interrupted'].push(e.key);
      }
      return { write, result };
    });
  }

  /** Rewrite the file with one line per key (temp file + fsync + rename), under the lock. */
  compact(): Promise<void> {
    return this.#mutate(async () => {
      await this.#journalFile.rewrite([...this.#entries.values()]);
      return { write: [], result: undefined };
    });
  }

  #update(
    key: string,
    experimentId: string,
    next: (current: ProgressEntry, t: string) => ProgressEntry,
  ): Promise<ProgressEntry> {
    return this.#mutate(async () => {
      const current = this.#entries.get(key);
      if (current?.status !== 'running')
        throw new ProgressStateError(key, `is ${current?.status ?? 'not in the journal'}, not running`);
      if (current.experimentId !== experimentId) {
        throw new ProgressStateError(
          key,
          `now runs as experiment ${current.experimentId}, not ${experimentId} (taken over as stale)`,
        );
      }
      const entry = next(current, now());
      return { write: [entry], result: entry };
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #mutate<T>(fn: () => Promise<{ write: ProgressEntry[]; result: T }>): Promise<T> {
    return this.#serial(() =>
      withLock(this.#stateDir, 'progress', async () => {
        await this.#catchUp(true);
        const { write, result } = await fn();
        if (write.length > 0) {
          await this.#journalFile.append(write);
          for (const e of write) this.#apply(e);
        }
        const { records } = this.#journalFile.health;
        if (records >= this.#minRecords && records > this.#ratio * this.#entries.size)
          await this.#journalFile.rewrite([...this.#entries.values()]);
        return result;
      }),
    );
  }

  /** Apply what other processes appended since the last read (all again if the file was replaced). */
  async #catchUp(repair: boolean): Promise<void> {
    const { replaced, entries } = await this.#journalFile.read(repair);
    if (replaced) this.#entries.clear();
    for (const e of entries) this.#apply(e);
  }

  #apply(entry: ProgressEntry): void {
    const current = this.#entries.get(entry.key);
    if (!current || entry.rev >= current.rev) this.#entries.set(entry.key, entry);
  }
}
