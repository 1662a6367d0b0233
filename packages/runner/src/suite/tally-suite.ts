import type { BatchResult } from '@joules/launcher';
import type { SuiteTally } from '../outcomes.js';
import type { SuiteRun } from './suite-run.js';

/**
 * How the batch ended, in counts: a job whose launcher threw (`error`) counts as failed (even when
 * its recording was what threw); a key left without an outcome (never started) is interrupted.
 */
export function tallySuite(
  run: SuiteRun,
  results: readonly BatchResult[],
  counts: { skipped: number; startedAtMs: number },
): SuiteTally {
  const count = (s: string) => results.filter((r) => r.outcome.status === s).length;
  const failed = results.filter((r) => r.outcome.status === 'failed' || r.error).length;
  const interrupted = count('interrupted');
  for (const r of results) {
    if (r.error && !run.outcomes.has(r.jobId)) {
      run.outcomes.set(r.jobId, {
        key: r.jobId,
        status: 'failed',
        message: r.error instanceof Error ? r.error.message : String(r.error),
      });
    } else if (!run.outcomes.has(r.jobId)) run.outcomes.set(r.jobId, { key: r.jobId, status: 'interrupted' });
  }
  return {
    done: count('succeeded') - results.filter((r) => r.error && r.outcome.status === 'succeeded').length,
    failed,
    skipped: counts.skipped,
    interrupted,
    energyJ: run.energyJ,
    seconds: (Date.now() - counts.startedAtMs) / 1000,
  };
}
