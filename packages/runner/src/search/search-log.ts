import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { resultsLayout } from '@joules/tracker';

/** One decision of a search: proposed, derived, pruned, judged, finished. */
export type SearchLogEntry =
  | { type: 'proposed'; point: string; round: number }
  | { type: 'derived'; point: string; from: string; overrides: Record<string, unknown> }
  | { type: 'pruned'; point: string; reason: 'slo' | 'dominated'; by: string }
  | { type: 'verdict'; point: string; met: boolean; objective: number | null; means: Record<string, number | null> }
  | { type: 'finished'; chosen: string | null; experiments: number; grid: number };

/** What identifies one decision: a rerun that reaches it again does not write it twice. */
const idOf = (e: SearchLogEntry) =>
  e.type === 'finished' ? `finished:${e.chosen}:${e.experiments}` : `${e.type}:${e.point}`;

/**
 * The search's decisions, `.joules/search/<suite>.jsonl` in the results folder: one JSON line per
 * decision (with the suite's search signature and the time), appended and fsynced, never rewritten.
 * A cut last line (a kill mid-write) is skipped on reading. The strategy is pure, so a rerun derives
 * the same decisions from the results; those already in the log are not appended again.
 */
export class SearchLog {
  readonly file: string;
  readonly #signature: string;
  readonly #seen = new Set<string>();
  readonly #entries: SearchLogEntry[] = [];

  private constructor(file: string, signature: string) {
    this.file = file;
    this.#signature = signature;
  }

  static async open(resultsDir: string, suite: string, signature: string): Promise<SearchLog> {
    const file = path.join(resultsLayout(resultsDir).stateDir, 'search', `${suite}.jsonl`);
    const log = new SearchLog(file, signature);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      try {
        const {
          signature: s,
          at: _at,
          ...entry
        } = JSON.parse(line) as SearchLogEntry & { signature: string; at: string };
        if (s !== signature) continue; // another search of the same name (changed suite): not this one's decisions
        log.#seen.add(idOf(entry as SearchLogEntry));
        log.#entries.push(entry as SearchLogEntry);
      } catch {
        // an empty or cut line
      }
    }
    return log;
  }

  /** Decisions read back from an earlier run of this search. */
  get entries(): readonly SearchLogEntry[] {
    return this.#entries;
  }

  /** Append the decisions not logged yet; resolves once they are on disk. */
  async append(entries: readonly SearchLogEntry[]): Promise<SearchLogEntry[]> {
    const fresh = entries.filter((e) => !this.#seen.has(idOf(e)));
    if (!fresh.length) return [];
    const at = new Date().toISOString();
    const text = fresh.map((e) => `${JSON.stringify({ ...e, signature: this.#signature, at })}\n`).join('');
    await mkdir(path.dirname(this.file), { recursive: true });
    const handle = await open(this.file, 'a');
    try {
      await handle.appendFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    for (const e of fresh) {
      this.#seen.add(idOf(e));
      this.#entries.push(e);
    }
    return fresh;
  }
}
