import type { Experiment } from '@joules/config';
import type { SuiteTally } from './outcomes.js';
import type { SearchResult } from './search/search-outcome.js';
import type { PrunedPoint } from './search/search-space.js';

/**
 * Everything a run tells the outside world: the only way progress leaves @joules/runner (the
 * library never prints). `key` names the experiment: its suite key (`model::suite::config::cycle`),
 * or the experiment id for `runExperiment`. Events of one experiment come in this order:
 * `experiment-started` → (`experiment-attempt` → `experiment-stage` / `experiment-progress`… → `experiment-attempt-failed`
 * → `experiment-retrying`)… → exactly one of `experiment-finished`, `experiment-failed`,
 * `experiment-interrupted`.
 */
export type RunnerEvent =
  /** A message for the user: config warnings, resume notes, reattaching, machine rendezvous. */
  | { type: 'notice'; level: 'info' | 'note' | 'warning' | 'error'; message: string; key?: string }
  /** `runExperiment`: what is about to run, and through which launcher. */
  | { type: 'experiment-planned'; key: string; experiment: Experiment; launcher: string }
  /** `runSuite`: what the journal says is left. */
  | { type: 'suite-planned'; suite: string; total: number; toRun: number; skipped: number; resultsDir: string }
  /** The experiment has its id (and its slot and GPUs); `attempt` counts runs of this key over resumes. */
  | { type: 'experiment-started'; key: string; experimentId: string; attempt: number }
  /** One launch attempt began (`attempt` counts retries within this run). */
  | {
      type: 'experiment-attempt';
      key: string;
      experimentId: string;
      attempt: number;
      pid: number;
      gpuIds: readonly number[];
      batchSize: number;
      schedulerJobId?: string;
    }
  /** A worker rank entered a stage (the worker's names: loading_model, loading_prompts, warmup, measuring, writing). */
  | { type: 'experiment-stage'; key: string; experimentId: string; rank: number; stage: string }
  /** A worker rank finished warm-up run `i` of `n`, or measured batch `i` of `n` (its prompts and latency). */
  | {
      type: 'experiment-progress';
      key: string;
      experimentId: string;
      rank: number;
      phase: 'warmup' | 'batch';
      i: number;
      n: number;
      size?: number;
      latencyS?: number;
    }
  /** A worker rank's latest power sample of one device (`device`: the worker's device id, `<host>/gpu/<uuid>`); `time` in Unix seconds. */
  | {
      type: 'experiment-power';
      key: string;
      experimentId: string;
      rank: number;
      host: string;
      device: string;
      watts: number;
      time: number;
    }
  | {
      type: 'experiment-attempt-failed';
      key: string;
      experimentId: string;
      attempt: number;
      kind: string;
      message: string;
      reason: string;
      willRetry: boolean;
    }
  | {
      type: 'experiment-retrying';
      key: string;
      experimentId: string;
      /** The attempt about to start. */
      attempt: number;
      delayMs: number;
      batchSize: number;
      previousBatchSize: number;
    }
  /** Recorded: its results folder and CSV row are written. */
  | {
      type: 'experiment-finished';
      key: string;
      experimentId: string;
      energyTotalJ: number | null;
      energyPerTokenJ: number | null;
      /** The batch size that ran (halved after an OOM) and the one configured. */
      batchSize: number;
      plannedBatchSize: number;
      modelReused: boolean;
      modelLoadS: number | null;
      dir: string;
    }
  | {
      type: 'experiment-failed';
      key: string;
      experimentId: string;
      kind: string;
      message: string;
      attempts: number;
      logFile: string;
    }
  | { type: 'experiment-interrupted'; key: string; experimentId: string; logFile: string }
  /** Model reuse: one worker session took these experiments, loading the model once. */
  | { type: 'session-started'; sessionId: string; model: string; key: string }
  /** The session's worker exited (`done`: closed after its last experiment); `experiments` it ran. */
  | {
      type: 'session-ended';
      sessionId: string;
      model: string;
      reason: 'done' | 'failed' | 'interrupted';
      experiments: number;
    }
  /** A search's next step: the points it runs now (`model::config`, each for every cycle) and the points it prunes. */
  | { type: 'search-step'; suite: string; round: number; propose: string[]; pruned: PrunedPoint[] }
  /** A search point is measured (every cycle done or failed): the SLO met or not, on the mean over cycles. */
  | {
      type: 'search-verdict';
      point: string;
      met: boolean;
      objective: number | null;
      means: Record<string, number | null>;
      cycles: number;
    }
  /** The search ended: its result (chosen point with CIs, Pareto front, counts), written to `file`. */
  | { type: 'search-finished'; file: string; result: SearchResult }
  | ({ type: 'suite-finished' } & SuiteTally);

export type RunnerEventType = RunnerEvent['type'];

/** Where a run sends its events; a throwing listener never breaks the run. */
export type EventSink = (event: RunnerEvent) => void;

export function safeSink(onEvent: EventSink | undefined): EventSink {
  if (!onEvent) return () => {};
  return (event) => {
    try {
      onEvent(event);
    } catch {
      // A listener's bug must not stop experiments or leave workers behind.
    }
  };
}
