import { type BatchJob, type Launcher, loadSettingsKey, sessionSupport } from '@joules/launcher';
import type { ResumePlan } from '@joules/tracker';
import { launchJob, resolvedExperiment, retryPolicy } from '../experiment/launch-job.js';
import type { LauncherFor } from '../experiment/launcher-cache.js';
import { reuseOrder } from './reuse-order.js';
import { SessionPool } from './session-pool.js';
import { slurmReattach } from './slurm-resume.js';
import { isSlurm, type SuiteRun } from './suite-run.js';

/** A key the plan runs, with why (and its journal entry from before, if any). */
type PlannedItem = ResumePlan['run'][number];

/**
 * The batch's jobs in run order, each with its launcher. With model reuse, each cycle's
 * experiments of one model load run back to back in one worker session (a pooled launcher; the
 * pools are returned to be closed). A killed run's Slurm job is reattached: noted, and kept in
 * `run.reattach` for `prepare`.
 */
export async function suiteJobs(
  run: SuiteRun,
  planned: readonly PlannedItem[],
  reuse: boolean,
  launcherFor: LauncherFor,
): Promise<{ jobs: BatchJob[]; pools: SessionPool[] }> {
  const toRun = reuse
    ? reuseOrder(
        planned,
        (item) => run.byKey.get(item.key)!.cycle,
        (item) => loadSettingsKey(resolvedExperiment(run.byKey.get(item.key)!.experiment)),
      )
    : planned;
  const pools = new Map<Launcher, SessionPool>();
  const pooled = (launcher: Launcher) => {
    let pool = pools.get(launcher);
    if (!pool) {
      pool = new SessionPool(launcher, run.emit);
      pools.set(launcher, pool);
    }
    return pool;
  };
  const jobs: BatchJob[] = [];
  for (const item of toRun) {
    const e = run.byKey.get(item.key)!;
    let launcher = await launcherFor(e.experiment);
    const previousId = item.previous?.experimentId;
    const again =
      previousId && (await slurmReattach(item.previous, launcher, launchJob(run.resultsDir, previousId, e.experiment)));
    if (again) {
      run.reattach.set(item.key, again);
      launcher = again.launcher;
      run.emit({
        type: 'notice',
        level: 'note',
        key: item.key,
        message: `${item.key}: reattaching to Slurm job ${again.jobId} (${again.state}) as ${again.experimentId}`,
      });
    }
    // On Slurm gpu_ids name GPUs of the allocated nodes, not of this one: keep them out of the local GPU bookkeeping.
    const experiment = isSlurm(e)
      ? { ...resolvedExperiment(e.experiment), gpu_ids: [] }
      : resolvedExperiment(e.experiment);
    if (reuse && !again && sessionSupport(launcher, experiment) === null) launcher = pooled(launcher);
    jobs.push({ id: item.key, experiment, outputDir: '', logFile: '', launcher, retry: retryPolicy(e.experiment) });
  }
  return { jobs, pools: [...pools.values()] };
}
