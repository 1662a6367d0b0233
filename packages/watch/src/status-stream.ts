import type { ServerResponse } from 'node:http';
import { resultsChartSpec } from './page/results-chart.js';
import type { SseHub } from './sse-hub.js';
import { statusDelta } from './status-delta.js';
import type { StateChanges, WatchState } from './watch-state.js';
import { buildStatus, type WatchStatus } from './watch-status.js';

const NOTHING = (): StateChanges => ({ reset: false, keys: new Set(), results: [], failures: [] });

/**
 * The pages' event stream: a page gets the whole status (`status`) and the chart's spec (`chart`)
 * when it connects, then only what changed (`delta`, see WatchDelta); a new `status` when the folder
 * was read again whole, a new `chart` when the chart's factor changed. Every read of the folder goes
 * through `tick`, one at a time, so what a page was sent and what it is sent next always follow.
 */
export class StatusStream {
  /** A running suite feeds this watch. */
  live = false;
  readonly #state: WatchState;
  readonly #hub: SseHub;
  readonly #resultsDir: string;
  readonly #onProblem: (e: unknown) => void;
  #queue: Promise<unknown> = Promise.resolve();
  #last: WatchStatus | undefined;
  #error: string | null = null;
  #chart: { signature: string; spec: Record<string, unknown> } | undefined;

  constructor(state: WatchState, hub: SseHub, options: { resultsDir: string; onProblem: (e: unknown) => void }) {
    this.#state = state;
    this.#hub = hub;
    this.#resultsDir = options.resultsDir;
    this.#onProblem = options.onProblem;
  }

  /** Read what the folder appended, tell the pages, and return the status as of now. */
  tick(): Promise<WatchStatus> {
    return this.#serial(() => this.#tick());
  }

  /** `fn` on the state as of now (after a tick, before the next). */
  read<T>(fn: () => T): Promise<T> {
    return this.#serial(async () => {
      await this.#tick();
      return fn();
    });
  }

  /** Start a page's event stream: the status as of now, then the deltas that follow it. */
  subscribe(res: ServerResponse): Promise<void> {
    return this.#serial(async () => {
      const status = await this.#tick();
      this.#hub.add(res, [
        { event: 'status', data: status },
        { event: 'chart', data: this.#chart?.spec },
      ]);
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #tick(): Promise<WatchStatus> {
    let changes = NOTHING();
    try {
      changes = await this.#state.update();
      this.#error = null;
    } catch (e) {
      this.#error = e instanceof Error ? e.message : String(e);
      this.#onProblem(e);
    }
    const status = buildStatus(this.#state, { resultsDir: this.#resultsDir, live: this.live, error: this.#error });
    const { factor, per } = status.chart;
    const signature = JSON.stringify([factor, per]);
    if (this.#chart?.signature !== signature) {
      this.#chart = { signature, spec: resultsChartSpec(factor, per) };
      this.#hub.send('chart', this.#chart.spec);
    }
    if (!this.#last || changes.reset) this.#hub.send('status', status);
    else {
      const delta = statusDelta(this.#last, status, changes, this.#state);
      if (delta) this.#hub.send('delta', delta);
    }
    this.#last = status;
    return status;
  }
}
