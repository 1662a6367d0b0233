import { stat } from 'node:fs/promises';
import path from 'node:path';
import { resultsLayout } from '../layout.js';
import { MANIFEST_FILE } from '../raw/manifest.js';
import { type ResultsRecovery, recoverResults } from '../raw/recover.js';
import { sweepTempFiles } from '../raw/verify.js';
import { type JournalOptions, ProgressJournal } from './journal.js';
import { type PlanOptions, planResume, type ResumePlan, type SuiteItem } from './resume.js';

export interface ResumeOptions extends PlanOptions, Omit<JournalOptions, 'liveness'> {
  /** Delete folders left incomplete instead of moving them to `.joules/incomplete/`. */
  removeIncomplete?: boolean;
}

export interface ResumeState {
  journal: ProgressJournal;
  plan: ResumePlan;
  /** What dead processes had left, and what became of it. */
  recovery: {
    results: ResultsRecovery;
    /** Keys that were running in a dead process: `done` if their results were in, else `interrupted`. */
    progress: { done: string[]; interrupted: string[] };
  };
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * Get a results folder ready to continue a suite: load the journal, finish or set aside what dead
 * processes left (pending markers, half-built folders, temp files over 10 minutes old), settle
 * their `running` keys, and plan which of `items` to run. Safe to run while other processes work in the same folder.
 */
export async function resumeSuite(
  resultsDir: string,
  items: readonly SuiteItem[],
  options: ResumeOptions = {},
): Promise<ResumeState> {
  const layout = resultsLayout(resultsDir);
  const journal = await ProgressJournal.open(resultsDir, options);
  const results = await recoverResults(resultsDir, {
    ...(options.removeIncomplete && { remove: true }),
    ...(options.liveness && { liveness: options.liveness }),
  });
  // After recoverResults, a folder in raw_results/ with no pending marker is acknowledged.
  const progress = await journal.recoverStale(async (e) => {
    const id = e.experimentId!;
    return (
      (await exists(path.join(layout.experimentDir(id), MANIFEST_FILE))) && !(await exists(layout.pendingMarker(id)))
    );
  });
  for (const dir of [layout.stateDir, layout.pendingDir]) await sweepTempFiles(dir);
  const plan = planResume(journal, items, options);
  return { journal, plan, recovery: { results, progress } };
}
