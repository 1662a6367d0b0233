import type { Experiment } from '@joules/config';
import type { ExperimentMetrics } from '@joules/metrics';
import type { RecordedExperiment } from '@joules/tracker';
import type { SearchResult } from './search/search-outcome.js';

/** What `runExperiment` resolves to. */
export type ExperimentOutcome =
  | {
      status: 'succeeded';
      experimentId: string;
      /** As configured; `ran` is what ran (e.g. batch size halved after an OOM). */
      experiment: Experiment;
      ran: Experiment;
      recorded: RecordedExperiment;
      metrics: ExperimentMetrics;
      resultsDir: string;
      logFile: string;
    }
  | {
      status: 'failed';
      experimentId: string;
      experiment: Experiment;
      kind: string;
      message: string;
      attempts: number;
      logFile: string;
      resultsDir: string;
    }
  | { status: 'interrupted'; experimentId: string; experiment: Experiment; logFile: string; resultsDir: string }
  /** A machine with rank > 0 of a hand-started multi-machine world: it ran its ranks, machine 0 records. */
  | {
      status: 'followed';
      machineRank: number;
      experimentId?: string;
      result: 'succeeded' | 'failed' | 'interrupted';
      kind?: string;
    }
  /** `dryRun`: the command lines and config, nothing launched. */
  | { status: 'dry-run'; text: string };

/** One experiment of a suite, as this run left it. */
export interface SuiteExperimentOutcome {
  key: string;
  experimentId?: string;
  status: 'done' | 'failed' | 'interrupted' | 'skipped';
  kind?: string;
  message?: string;
  modelReused?: boolean;
}

/** How a suite run ended, in counts: its outcome, its `suite-finished` event, a reporter's summary. */
export interface SuiteTally {
  done: number;
  failed: number;
  skipped: number;
  interrupted: number;
  /** Measured energy of the experiments this run recorded. */
  energyJ: number;
  seconds: number;
}

/** What `runSuite` resolves to. */
export interface SuiteOutcome extends SuiteTally {
  suite: string;
  resultsDir: string;
  total: number;
  experiments: SuiteExperimentOutcome[];
  /** `dryRun`: each key's command lines and config; nothing launched, all counts 0. */
  dryRun?: { key: string; text: string }[];
  /** A search suite that finished its search: the result it wrote to `search_result.json`. */
  search?: SearchResult;
}
