import type { BatchResult, SessionOutcome } from '@joules/launcher';
import { type Ending, finishFailed, finishInterrupted, finishSucceeded } from '../experiment/finish-experiment.js';
import { launchJob } from '../experiment/launch-job.js';
import type { SuiteRun } from './suite-run.js';

/** Record a finished job (results or failure) and close its journal entry, inside its slot. */
export async function settleJob(run: SuiteRun, result: BatchResult): Promise<void> {
  const key = result.jobId;
  const id = run.ids.get(key);
  if (id === undefined) return; // never started (interrupted while queued)
  const planned = run.byKey.get(key)!.experiment;
  const end: Ending = {
    resultsDir: run.resultsDir,
    emit: run.emit,
    key,
    experimentId: id,
    planned,
    logFile: launchJob(run.resultsDir, id, planned).logFile,
  };
  const { outcome } = result;
  if (outcome.status === 'succeeded') {
    const session = outcome as Partial<SessionOutcome>;
    const modelReused = session.modelReused ?? false;
    const { metrics } = await finishSucceeded(end, result, {
      startedAt: run.startedAt.get(key)!,
      energyHostShared: run.hostShared(run.byKey.get(key)!),
      session: { modelReused, modelLoadS: session.modelLoadS ?? null },
      afterRecord: async () => {
        await run.journal.finish(
          key,
          id,
          'done',
          result.experiment.batch_size !== planned.batch_size
            ? { note: `batch_size ${result.experiment.batch_size} after OOM` }
            : {},
        );
      },
    });
    run.energyJ += metrics.energy_total_j ?? 0;
    run.outcomes.set(key, { key, experimentId: id, status: 'done', modelReused });
  } else if (outcome.status === 'failed') {
    await run.journal.finish(key, id, 'failed', { error: `${outcome.kind}: ${outcome.message}` });
    run.outcomes.set(key, { key, experimentId: id, status: 'failed', kind: outcome.kind, message: outcome.message });
    await finishFailed(end, { kind: outcome.kind, message: outcome.message, attempts: result.attempts.length });
  } else {
    await run.journal.finish(key, id, 'interrupted');
    run.outcomes.set(key, { key, experimentId: id, status: 'interrupted' });
    finishInterrupted(end);
  }
}
