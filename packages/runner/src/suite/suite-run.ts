import type { SuiteExperiment } from '@joules/config';
import type { ProgressJournal } from '@joules/tracker';
import type { EventSink } from '../events.js';
import { effectiveLauncher } from '../experiment/launch-job.js';
import type { SuiteExperimentOutcome } from '../outcomes.js';
import type { Reattach } from './slurm-resume.js';

/** One run of a suite as its steps share it: where it records, and what it learned so far. */
export interface SuiteRun {
  resultsDir: string;
  emit: EventSink;
  journal: ProgressJournal;
  byKey: ReadonlyMap<string, SuiteExperiment>;
  /** The experiment id of each key's attempt in this run (set when its job starts). */
  ids: Map<string, string>;
  /** When each key's job started (ISO time). */
  startedAt: Map<string, string>;
  /** Slurm jobs of a killed earlier run that this run follows, by key. */
  reattach: Map<string, Reattach>;
  /** A host-level energy reader of this experiment runs beside other jobs. */
  hostShared: (e: SuiteExperiment) => boolean;
  /** Journal and failure-log writes started from event callbacks; awaited before the tally. */
  writes: Promise<void>[];
  /** Measured energy of the experiments this run recorded. */
  energyJ: number;
  outcomes: Map<string, SuiteExperimentOutcome>;
}

/** Slurm experiments run on other hosts: no local GPUs, no shared-host energy. */
export const isSlurm = (e: SuiteExperiment) => effectiveLauncher(e.experiment) === 'slurm';
