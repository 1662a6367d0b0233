import type { BatchOptions } from '@joules/launcher';
import { launchJob, resolvedExperiment } from '../experiment/launch-job.js';
import { failureRecorder } from '../experiment/record-results.js';
import { forwardJobEvent } from '../job-events.js';
import { settleJob } from './settle-job.js';
import { slurmJobHandle } from './slurm-resume.js';
import { isSlurm, type SuiteRun } from './suite-run.js';

/**
 * What the batch calls back for a suite: each job event forwarded (failed attempts logged, a Slurm
 * job id kept in the journal); `prepare` opens the key's journal entry as its slot comes up (its
 * experiment id, folders, `experiment-started`); `settle` records how it ended.
 */
export function suiteBatchHooks(run: SuiteRun): Required<Pick<BatchOptions, 'onEvent' | 'prepare' | 'settle'>> {
  const recordFailure = failureRecorder(run.resultsDir, (key) => run.ids.get(key));
  return {
    onEvent: (event) => {
      const id = run.ids.get(event.jobId);
      if (id !== undefined) forwardJobEvent(run.emit, event, event.jobId, id);
      run.writes.push(recordFailure(event));
      if (event.type === 'started' && event.schedulerJobId !== undefined && id !== undefined) {
        const handle = slurmJobHandle(event.schedulerJobId);
        run.writes.push(
          run.journal.setJob(event.jobId, id, handle).then(
            () => undefined,
            (error: unknown) =>
              run.emit({
                type: 'notice',
                level: 'warning',
                key: event.jobId,
                message: `${event.jobId}: could not record ${handle} in the journal: ${error instanceof Error ? error.message : String(error)}`,
              }),
          ),
        );
      }
    },
    prepare: async (job) => {
      const again = run.reattach.get(job.id);
      const started = await run.journal.start(job.id, {
        configHash: run.byKey.get(job.id)!.hash,
        ...(again && { experimentId: again.experimentId, job: slurmJobHandle(again.jobId) }),
      });
      if (!started.started) throw new Error(`${job.id} is ${started.reason} elsewhere`);
      const id = started.entry.experimentId!;
      run.ids.set(job.id, id);
      run.startedAt.set(job.id, new Date().toISOString());
      run.emit({ type: 'experiment-started', key: job.id, experimentId: id, attempt: started.entry.attempts });
      const { experiment: _e, ...rest } = launchJob(run.resultsDir, id, job.experiment);
      const e = run.byKey.get(job.id)!;
      return isSlurm(e) ? { ...rest, experiment: resolvedExperiment(e.experiment) } : rest;
    },
    settle: (result) => settleJob(run, result),
  };
}
