import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadSuiteFile, type SuiteExperiment } from '@joules/config';
import { dryRun, runBatch, type BatchJob, type BatchResult, type JobEvent } from '@joules/launcher';
import { resumeSuite, type ProgressJournal } from '@joules/tracker';
import { EXIT } from '../errors.js';
import { failureRecorder, launchJob, launcherCache, recordSuccess, retryPolicy } from '../experiment-jobs.js';
import type { Output } from '../output.js';
import { slurmJobHandle, slurmReattach, type Reattach } from '../slurm-resume.js';
import { jsonReporter, plainReporter } from '../progress/plain-reporter.js';
import type { SuiteReporter } from '../progress/reporter.js';
import { ttyReporter } from '../progress/tty-reporter.js';
import { resolveWorkerEnv } from '../worker-env.js';

export interface SuiteOptions {
  file: string;
  set?: string[];
  skipInvalid?: boolean;
  resultsDir?: string;
  maxParallel?: number;
  gpus?: number[];
  rerunFailed?: boolean;
  rerunChanged?: boolean;
  dryRun?: boolean;
  /** Slurm: on Ctrl-C / SIGTERM leave the jobs queued and running (a later run reattaches). */
  detach?: boolean;
  json?: boolean;
  python?: string;
  cwd?: string;
  signal?: AbortSignal;
  /** Stream for live bars; default: stderr when it is a TTY, else plain lines. */
  tty?: NodeJS.WriteStream;
}

function pickReporter(options: SuiteOptions, output: Output): SuiteReporter {
  if (options.json) return jsonReporter(output);
  const tty = options.tty ?? (process.stderr.isTTY ? process.stderr : undefined);
  return tty ? ttyReporter(tty) : plainReporter(output);
}

function workerProgress(reporter: SuiteReporter, event: JobEvent): void {
  if (event.type === 'worker') {
    const e = event.event;
    if (e.rank !== 0) return;
    if (e.event === 'stage') reporter.report({ type: 'progress', key: event.jobId, phase: e.stage.replace('_', ' ') });
    else if (e.event === 'warmup') reporter.report({ type: 'progress', key: event.jobId, phase: 'warm-up', i: e.i, n: e.n });
    else if (e.event === 'batch') reporter.report({ type: 'progress', key: event.jobId, phase: 'batch', i: e.i, n: e.n });
  } else if (event.type === 'retrying') {
    reporter.report({
      type: 'retrying', key: event.jobId, attempt: event.attempt + 1, delayS: Math.round(event.delayMs / 1000),
      reason: 'failed', ...(event.batchSize !== event.previousBatchSize && { batchSize: event.batchSize }),
    });
  }
}

/**
 * `joules suite <suite.yaml>`: expand the suite, skip what is done, run the rest (retries,
 * `--max-parallel`, `--gpus`), record everything. Killed and started again, it resumes.
 */
export async function suite(options: SuiteOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.file);
  const loaded = await loadSuiteFile(file, { resolvePaths: true, cwd, skipInvalid: options.skipInvalid === true, ...(options.set && { set: options.set }) });
  for (const w of loaded.result.warnings) output.err(`warning: ${w}`);
  for (const i of options.skipInvalid ? loaded.invalid : []) output.err(`dropped ${i.key}: ${i.reasons.join('; ')}`);
  if (!loaded.result.config) {
    for (const e of loaded.result.errors) output.err(e);
    return EXIT.usage;
  }
  const multi = loaded.experiments.filter((e) => e.experiment.launch.machines.num_machines > 1);
  if (multi.length) {
    for (const e of multi) output.err(`${e.key}: launch.machines.num_machines > 1 is for \`joules run\` on each machine (docs/cluster.md); in a suite use launch.launcher: slurm`);
    return EXIT.usage;
  }
  const suiteName = loaded.result.config.name;
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcherFor = launcherCache(worker, path.dirname(file), { detach: options.detach === true });
  const byKey = new Map<string, SuiteExperiment>(loaded.experiments.map((e) => [e.key, e]));

  if (options.dryRun) {
    for (const e of loaded.experiments) {
      output.out(`# ${e.key}`);
      output.out(dryRun(await launcherFor(e.experiment), launchJob(resultsDir, '<id>', e.experiment)).text);
    }
    return EXIT.ok;
  }

  const t0 = Date.now();
  const items = loaded.experiments.map((e) => ({ key: e.key, configHash: e.hash }));
  const { journal, plan } = await resumeSuite(resultsDir, items, {
    rerunFailed: options.rerunFailed === true,
    rerunChanged: options.rerunChanged === true,
  });
  const reporter = pickReporter(options, output);
  for (const c of plan.changed.filter((c) => !c.rerun)) {
    output.err(`warning: ${c.key} is done (${c.experimentId}) with another config than the suite now gives; kept (--rerun-changed reruns it)`);
  }
  for (const k of plan.failed) output.err(`note: ${k} failed before; not rerun (--rerun-failed reruns it)`);
  for (const r of plan.running) output.err(`note: ${r.key} is running in another live process (${r.owner?.host ?? '?'} pid ${r.owner?.pid ?? '?'}); skipped`);
  reporter.report({ type: 'planned', suite: suiteName, total: items.length, toRun: plan.run.length, skipped: items.length - plan.run.length });

  const ids = new Map<string, string>();
  const startedAt = new Map<string, string>();
  const recordFailure = failureRecorder(resultsDir, (key) => ids.get(key));
  const writes: Promise<void>[] = [];
  let energyJ = 0;
  const jobs: BatchJob[] = [];
  const reattach = new Map<string, Reattach>();
  for (const item of plan.run) {
    const e = byKey.get(item.key)!;
    let launcher = await launcherFor(e.experiment);
    const previousId = item.previous?.experimentId;
    const again = previousId && (await slurmReattach(item.previous, launcher, launchJob(resultsDir, previousId, e.experiment)));
    if (again) {
      reattach.set(item.key, again);
      launcher = again.launcher;
      output.err(`note: ${item.key}: reattaching to Slurm job ${again.jobId} (${again.state}) as ${again.experimentId}`);
    }
    // On Slurm gpu_ids name GPUs of the allocated nodes, not of this one: keep them out of the local GPU bookkeeping.
    const experiment = isSlurm(e) ? { ...e.experiment, gpu_ids: [] } : e.experiment;
    jobs.push({ id: item.key, experiment, outputDir: '', logFile: '', launcher, retry: retryPolicy(e.experiment) });
  }
  const settle = settleWith(journal, resultsDir, byKey, ids, startedAt, reporter, (j) => (energyJ += j));
  const results = await runBatch(jobs, {
    launcher: jobs[0]?.launcher ?? (await launcherFor(loaded.experiments[0]!.experiment)),
    maxParallel: options.maxParallel ?? 1,
    ...(options.gpus && { gpus: options.gpus }),
    ...(options.signal && { signal: options.signal }),
    onEvent: (event) => {
      workerProgress(reporter, event);
      writes.push(recordFailure(event));
      const id = ids.get(event.jobId);
      if (event.type === 'started' && event.schedulerJobId !== undefined && id !== undefined) {
        const handle = slurmJobHandle(event.schedulerJobId);
        writes.push(journal.setJob(event.jobId, id, handle).then(
          () => undefined,
          (error: unknown) => output.err(`warning: ${event.jobId}: could not record ${handle} in the journal: ${error instanceof Error ? error.message : String(error)}`),
        ));
      }
    },
    prepare: async (job) => {
      const again = reattach.get(job.id);
      const started = await journal.start(job.id, {
        configHash: byKey.get(job.id)!.hash,
        ...(again && { experimentId: again.experimentId, job: slurmJobHandle(again.jobId) }),
      });
      if (!started.started) throw new Error(`${job.id} is ${started.reason} elsewhere`);
      const id = started.entry.experimentId!;
      ids.set(job.id, id);
      startedAt.set(job.id, new Date().toISOString());
      reporter.report({ type: 'started', key: job.id, experimentId: id, attempt: started.entry.attempts });
      const { experiment: _e, ...rest } = launchJob(resultsDir, id, job.experiment);
      const e = byKey.get(job.id)!;
      return isSlurm(e) ? { ...rest, experiment: e.experiment } : rest;
    },
    settle,
  });
  await Promise.all(writes);
  const count = (s: string) => results.filter((r) => r.outcome.status === s).length;
  const failed = results.filter((r) => r.outcome.status === 'failed' || r.error).length;
  const interrupted = count('interrupted');
  reporter.report({
    type: 'summary', done: count('succeeded') - results.filter((r) => r.error && r.outcome.status === 'succeeded').length,
    failed, skipped: items.length - plan.run.length, interrupted, energyJ, seconds: (Date.now() - t0) / 1000,
  });
  reporter.close();
  if (options.signal?.aborted || interrupted) return EXIT.interrupted;
  return failed ? EXIT.failed : EXIT.ok;
}

const isSlurm = (e: SuiteExperiment) => e.experiment.launch.launcher === 'slurm';

/** Record each finished job (results or failure) and close its journal entry, inside its slot. */
function settleWith(
  journal: ProgressJournal,
  resultsDir: string,
  byKey: Map<string, SuiteExperiment>,
  ids: Map<string, string>,
  startedAt: Map<string, string>,
  reporter: SuiteReporter,
  addEnergy: (j: number) => void,
) {
  return async (result: BatchResult): Promise<void> => {
    const key = result.jobId;
    const id = ids.get(key);
    if (id === undefined) return; // never started (interrupted while queued)
    const { outcome } = result;
    if (outcome.status === 'succeeded') {
      const { metrics } = await recordSuccess(resultsDir, id, byKey.get(key)!.experiment, result, startedAt.get(key)!);
      await journal.finish(key, id, 'done', result.experiment.batch_size !== byKey.get(key)!.experiment.batch_size ? { note: `batch_size ${result.experiment.batch_size} after OOM` } : {});
      await rm(launchJob(resultsDir, id, result.experiment).outputDir, { recursive: true, force: true });
      addEnergy(metrics.energy_total_j ?? 0);
      const detail = metrics.energy_per_token_j === null ? '' : `${metrics.energy_per_token_j.toPrecision(3)} J/token`;
      reporter.report({ type: 'finished', key, experimentId: id, status: 'done', detail });
    } else if (outcome.status === 'failed') {
      await journal.finish(key, id, 'failed', { error: `${outcome.kind}: ${outcome.message}` });
      reporter.report({ type: 'finished', key, experimentId: id, status: 'failed', detail: `${outcome.kind}: ${outcome.message}` });
    } else {
      await journal.finish(key, id, 'interrupted');
      reporter.report({ type: 'finished', key, experimentId: id, status: 'interrupted', detail: '' });
    }
  };
}
