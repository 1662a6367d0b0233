import type { SuiteExperiment } from '@joules/config';
import { type ResumeState, resumeSuite } from '@joules/tracker';
import type { EventSink } from '../events.js';

/**
 * Get the results folder ready and plan what is left to run (the journal decides). What is not
 * rerun (changed, failed before, running elsewhere) goes out as notices, then `suite-planned`.
 */
export async function planSuite(
  suite: { name: string; experiments: readonly SuiteExperiment[] },
  resultsDir: string,
  options: { rerunFailed?: boolean; rerunChanged?: boolean },
  emit: EventSink,
): Promise<ResumeState & { skipped: number }> {
  const items = suite.experiments.map((e) => ({ key: e.key, configHash: e.hash }));
  const state = await resumeSuite(resultsDir, items, {
    rerunFailed: options.rerunFailed === true,
    rerunChanged: options.rerunChanged === true,
  });
  const { plan } = state;
  for (const c of plan.changed.filter((c) => !c.rerun)) {
    emit({
      type: 'notice',
      level: 'warning',
      key: c.key,
      message: `${c.key} is done (${c.experimentId}) with another config than the suite now gives; kept (--rerun-changed reruns it)`,
    });
  }
  for (const k of plan.failed)
    emit({
      type: 'notice',
      level: 'note',
      key: k,
      message: `${k} failed before; not rerun (--rerun-failed reruns it)`,
    });
  for (const r of plan.running) {
    emit({
      type: 'notice',
      level: 'note',
      key: r.key,
      message: `${r.key} is running in another live process (${r.owner?.host ?? '?'} pid ${r.owner?.pid ?? '?'}); skipped`,
    });
  }
  const skipped = items.length - plan.run.length;
  emit({ type: 'suite-planned', suite: suite.name, total: items.length, toRun: plan.run.length, skipped, resultsDir });
  return { ...state, skipped };
}
