import type { RunnerEvent, SuiteTally } from '@joules/runner';

/** What a running experiment is doing, from the runner's events (not on disk). */
export interface LiveExperiment {
  key: string;
  experimentId: string;
  attempt: number;
  stage: string | null;
  progress: { phase: 'warmup' | 'batch'; i: number; n: number } | null;
  gpuIds: readonly number[];
  since: string;
}

/** The latest power reading of one device. */
export interface PowerReading {
  host: string;
  device: string;
  watts: number;
  /** Unix seconds of the sample. */
  time: number;
  key: string;
}

/** Suite-level facts from the events: its plan and, at the end, its summary. */
export interface LiveSuite {
  name: string;
  total: number;
  toRun: number;
  skipped: number;
  finished: SuiteTally | null;
}

/**
 * The part of the picture only a running suite knows: stages, batches, live power. Fed by
 * RunnerEvents; what is on disk (journal, CSV) stays the truth for counts and results.
 */
export class LiveRuns {
  readonly running = new Map<string, LiveExperiment>();
  readonly power = new Map<string, PowerReading>();
  suite: LiveSuite | null = null;

  /** Apply one event; true when the picture changed. */
  apply(event: RunnerEvent, now = new Date()): boolean {
    switch (event.type) {
      case 'suite-planned':
        this.suite = {
          name: event.suite,
          total: event.total,
          toRun: event.toRun,
          skipped: event.skipped,
          finished: null,
        };
        return true;
      case 'suite-finished':
        if (this.suite)
          this.suite.finished = {
            done: event.done,
            failed: event.failed,
            skipped: event.skipped,
            interrupted: event.interrupted,
            energyJ: event.energyJ,
            seconds: event.seconds,
          };
        this.running.clear();
        this.power.clear();
        return true;
      case 'experiment-started':
        this.running.set(event.key, {
          key: event.key,
          experimentId: event.experimentId,
          attempt: event.attempt,
          stage: null,
          progress: null,
          gpuIds: [],
          since: now.toISOString(),
        });
        return true;
      case 'experiment-attempt':
        return this.#update(event.key, { gpuIds: event.gpuIds, stage: null, progress: null });
      case 'experiment-stage':
        return event.rank === 0 && this.#update(event.key, { stage: event.stage });
      case 'experiment-progress':
        return (
          event.rank === 0 && this.#update(event.key, { progress: { phase: event.phase, i: event.i, n: event.n } })
        );
      case 'experiment-power':
        this.power.set(`${event.host}\n${event.device}`, {
          host: event.host,
          device: event.device,
          watts: event.watts,
          time: event.time,
          key: event.key,
        });
        return true;
      case 'experiment-finished':
      case 'experiment-failed':
      case 'experiment-interrupted':
        this.running.delete(event.key);
        for (const [id, p] of this.power) if (p.key === event.key) this.power.delete(id);
        return true;
      default:
        return false;
    }
  }

  #update(key: string, patch: Partial<LiveExperiment>): boolean {
    const run = this.running.get(key);
    if (!run) return false;
    Object.assign(run, patch);
    return true;
  }
}
