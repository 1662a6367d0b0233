import type { SuiteExperiment } from '@joules/config';
import { type BatchResult, runBatch } from '@joules/launcher';
import { planResume } from '@joules/tracker';
import type { LauncherFor } from '../experiment/launcher-cache.js';
import { suiteBatchHooks } from '../suite/batch-hooks.js';
import { suiteJobs } from '../suite/suite-jobs.js';
import type { SuiteRun } from '../suite/suite-run.js';

export interface RoundOptions {
  launcherFor: LauncherFor;
  reuse: boolean;
  maxParallel: number;
  gpus?: number[];
  signal?: AbortSignal;
  rerunFailed: boolean;
  rerunChanged: boolean;
}

/**
 * Run the experiments of one search step like a suite runs its own: what the journal says is done
 * is skipped (a rerun after kill -9 runs no finished experiment again), the rest runs through the
 * batch (retries, the GPU pool, `maxParallel`) and is recorded. Resolves to the batch's results and
 * how many keys it skipped; `stuck` when none could run although some are not done (running in
 * another process, or done under another config).
 */
export async function runRound(
  run: SuiteRun,
  experiments: readonly SuiteExperiment[],
  o: RoundOptions,
): Promise<{ results: BatchResult[]; skipped: number; stuck: string[] }> {
  const items = experiments.map((e) => ({ key: e.key, configHash: e.hash }));
  const plan = planResume(run.journal, items, { rerunFailed: o.rerunFailed, rerunChanged: o.rerunChanged });
  for (const c of plan.changed.filter((c) => !c.rerun))
    run.emit({
      type: 'notice',
      level: 'warning',
      key: c.key,
      message: `${c.key} is done (${c.experimentId}) with another config than the suite now gives; its results are used (--rerun-changed reruns it)`,
    });
  const stuck = plan.running.map((r) => r.key);
  for (const key of stuck)
    run.emit({ type: 'notice', level: 'note', key, message: `${key} is running in another live process; skipped` });
  const skipped = items.length - plan.run.length;
  if (!plan.run.length) return { results: [], skipped, stuck };
  const { jobs, pools } = await suiteJobs(run, plan.run, o.reuse, o.launcherFor);
  const results = await runBatch(jobs, {
    launcher: jobs[0]!.launcher ?? (await o.launcherFor(experiments[0]!.experiment)),
    maxParallel: o.maxParallel,
    ...(o.gpus && { gpus: o.gpus }),
    ...(o.signal && { signal: o.signal }),
    ...suiteBatchHooks(run),
  }).finally(() => Promise.all(pools.map((p) => p.closeAll())));
  await Promise.all(run.writes);
  return { results, skipped, stuck: [] };
}
