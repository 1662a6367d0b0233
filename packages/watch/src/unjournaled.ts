import type { StatusCounts } from '@joules/tracker/follow';

/** The counts of one suite and model. */
export interface Group {
  suite: string | null;
  model: string;
  counts: StatusCounts;
}

/**
 * What no journal key covers (yet): result rows, by their key, and final failures, by model and
 * configuration (once per experiment id). The caller counts each in its group; when the journal
 * gets a key that covers them, `take*` hands them back to be counted no more.
 */
export class Unjournaled {
  readonly #rows = new Map<string, { group: Group; n: number }>();
  readonly #failures = new Map<string, { group: Group; ids: Set<string> }>();

  addRow(key: string, group: Group): void {
    const rows = this.#rows.get(key);
    if (rows) rows.n++;
    else this.#rows.set(key, { group, n: 1 });
  }

  /** A final failure: the group to count it in, undefined when its experiment was counted already. */
  addFailure(model: string, config: string, experimentId: string, group: () => Group): { group: Group } | undefined {
    const pair = `${model}\n${config}`;
    let failed = this.#failures.get(pair);
    if (!failed) {
      failed = { group: group(), ids: new Set() };
      this.#failures.set(pair, failed);
    }
    if (failed.ids.has(experimentId)) return undefined;
    failed.ids.add(experimentId);
    return failed;
  }

  /** The rows of a key the journal now has. */
  takeRows(key: string): { group: Group; n: number } | undefined {
    const rows = this.#rows.get(key);
    this.#rows.delete(key);
    return rows;
  }

  /** The failures of a model and configuration the journal now has. */
  takeFailures(model: string, config: string): { group: Group; n: number } | undefined {
    const pair = `${model}\n${config}`;
    const failed = this.#failures.get(pair);
    this.#failures.delete(pair);
    return failed && { group: failed.group, n: failed.ids.size };
  }
}
