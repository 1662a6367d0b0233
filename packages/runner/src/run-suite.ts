import { rm } from 'node:fs/promises';
import path from 'node:path';
import { energyHostShared, loadSuiteFile, type SuiteExperiment, sharedHostProblems } from '@joules/config';
import {
  type BatchJob,
  type BatchResult,
  closeServers,
  dryRun,
  type Launcher,
  loadSettingsKey,
  runBatch,
  type SessionOutcome,
  sessionSupport,
} from '@joules/launcher';
import { type ProgressJournal, resumeSuite } from '@joules/tracker';
import { RunConfigError } from './errors.js';
import { type EventSink, safeSink } from './events.js';
import {
  effectiveLauncher,
  failureRecorder,
  launcherCache,
  launchJob,
  recordSuccess,
  resolvedExperiment,
  retryPolicy,
} from './experiment-jobs.js';
import { forwardJobEvent } from './job-events.js';
import type { SuiteExperimentOutcome, SuiteOutcome } from './outcomes.js';
import { reuseOrder } from './reuse-order.js';
import { SessionPool } from './session-pool.js';
import { type Reattach, slurmJobHandle, slurmReattach } from './slurm-resume.js';
import { resolveWorkerEnv } from './worker-env.js';

export interface RunSuiteOptions {
  /** The suite file (YAML or JSON). */
  suite: string;
  /** `path=value` overrides applied to every experiment. */
  set?: string[];
  /** Drop invalid combinations (reported as notices) instead of refusing the suite. */
  skipInvalid?: boolean;
  /** Default `results` under `cwd`. */
  resultsDir?: string;
  /** Load each model once per run of consecutive experiments with equal load settings (also `reuse: model` in the suite). */
  reuseModel?: boolean;
  /** The most experiments running at once (default 1). */
  maxParallel?: number;
  /** The GPU pool, e.g. [0, 1, 2, 3]. */
  gpus?: number[];
  /** A launcher object instead of the ones `launch.launcher` names. */
  launcher?: Launcher;
  /** Run keys that failed before again. */
  rerunFailed?: boolean;
  /** Run done keys whose config changed again. */
  rerunChanged?: boolean;
  /** Build each experiment's command lines only. */
  dryRun?: boolean;
  /** Slurm: on abort leave the jobs queued and running (a later run reattaches). */
  detach?: boolean;
  python?: string;
  cwd?: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

const isSlurm = (e: SuiteExperiment) => effectiveLauncher(e.experiment) === 'slurm';

/**
 * A whole suite: expand it, skip what the journal says is done, run the rest (retries, the GPU
 * pool, `maxParallel`), record everything. Killed and started again, it resumes; Slurm jobs of a
 * killed run are reattached. Bad config rejects with a RunConfigError before anything runs.
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteOutcome> {
  const emit = safeSink(options.onEvent);
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.suite);
  const loaded = await loadSuiteFile(file, {
    resolvePaths: true,
    cwd,
    skipInvalid: options.skipInvalid === true,
    ...(options.set && { set: options.set }),
  });
  for (const w of loaded.result.warnings) emit({ type: 'notice', level: 'warning', message: w });
  for (const i of options.skipInvalid ? loaded.invalid : [])
    emit({ type: 'notice', level: 'info', key: i.key, message: `dropped ${i.key}: ${i.reasons.join('; ')}` });
  if (!loaded.result.config) throw new RunConfigError(loaded.result.errors);
  const multi = loaded.experiments.filter((e) => e.experiment.launch.machines.num_machines > 1);
  if (multi.length) {
    throw new RunConfigError(
      multi.map(
        (e) =>
          `${e.key}: launch.machines.num_machines > 1 is for \`joules run\` on each machine (docs/cluster.md); in a suite use launch.launcher: slurm`,
      ),
    );
  }
  const suiteName = loaded.result.config.name;
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcherFor = launcherCache(worker, path.dirname(file), {
    detach: options.detach === true,
    ...(options.launcher && { override: options.launcher }),
  });
  const byKey = new Map<string, SuiteExperiment>(loaded.experiments.map((e) => [e.key, e]));
  const empty = {
    suite: suiteName,
    resultsDir,
    total: loaded.experiments.length,
    done: 0,
    failed: 0,
    skipped: 0,
    interrupted: 0,
    energyJ: 0,
    seconds: 0,
    experiments: [],
  };

  if (options.dryRun) {
    const texts: { key: string; text: string }[] = [];
    for (const e of loaded.experiments)
      texts.push({
        key: e.key,
        text: dryRun(await launcherFor(e.experiment), launchJob(resultsDir, '<id>', e.experiment)).text,
      });
    return { ...empty, dryRun: texts };
  }

  // Host-level energy readers and parallel jobs on this host (Slurm jobs run elsewhere): refused unless allowed.
  const onHost = loaded.experiments.filter((e) => !isSlurm(e));
  const sharedHost = sharedHostProblems(onHost, options.maxParallel ?? 1);
  if (sharedHost.length) throw new RunConfigError(sharedHost);
  const hostShared = (e: SuiteExperiment) =>
    !isSlurm(e) && energyHostShared(e.experiment, options.maxParallel ?? 1, onHost.length);

  const t0 = Date.now();
  const items = loaded.experiments.map((e) => ({ key: e.key, configHash: e.hash }));
  const { journal, plan } = await resumeSuite(resultsDir, items, {
    rerunFailed: options.rerunFailed === true,
    rerunChanged: options.rerunChanged === true,
  });
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
  emit({ type: 'suite-planned', suite: suiteName, total: items.length, toRun: plan.run.length, skipped, resultsDir });

  const ids = new Map<string, string>();
  const startedAt = new Map<string, string>();
  const recordFailure = failureRecorder(resultsDir, (key) => ids.get(key));
  const writes: Promise<void>[] = [];
  const state = { energyJ: 0, outcomes: new Map<string, SuiteExperimentOutcome>() };
  const jobs: BatchJob[] = [];
  const reattach = new Map<string, Reattach>();
  // Model reuse: each cycle's experiments of one model load run back to back, in one worker session.
  const reuse = options.reuseModel === true || loaded.result.config.reuse === 'model';
  const toRun = reuse
    ? reuseOrder(
        plan.run,
        (item) => byKey.get(item.key)!.cycle,
        (item) => loadSettingsKey(resolvedExperiment(byKey.get(item.key)!.experiment)),
      )
    : plan.run;
  const pools = new Map<Launcher, SessionPool>();
  const pooled = (launcher: Launcher) => {
    let pool = pools.get(launcher);
    if (!pool) {
      pool = new SessionPool(launcher, emit);
      pools.set(launcher, pool);
    }
    return pool;
  };
  for (const item of toRun) {
    const e = byKey.get(item.key)!;
    let launcher = await launcherFor(e.experiment);
    const previousId = item.previous?.experimentId;
    const again =
      previousId && (await slurmReattach(item.previous, launcher, launchJob(resultsDir, previousId, e.experiment)));
    if (again) {
      reattach.set(item.key, again);
      launcher = again.launcher;
      emit({
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
  const results = await runBatch(jobs, {
    launcher: jobs[0]?.launcher ?? (await launcherFor(loaded.experiments[0]!.experiment)),
    maxParallel: options.maxParallel ?? 1,
    ...(options.gpus && { gpus: options.gpus }),
    ...(options.signal && { signal: options.signal }),
    onEvent: (event) => {
      const id = ids.get(event.jobId);
      if (id !== undefined) forwardJobEvent(emit, event, event.jobId, id);
      writes.push(recordFailure(event));
      if (event.type === 'started' && event.schedulerJobId !== undefined && id !== undefined) {
        const handle = slurmJobHandle(event.schedulerJobId);
        writes.push(
          journal.setJob(event.jobId, id, handle).then(
            () => undefined,
            (error: unknown) =>
              emit({
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
      const again = reattach.get(job.id);
      const started = await journal.start(job.id, {
        configHash: byKey.get(job.id)!.hash,
        ...(again && { experimentId: again.experimentId, job: slurmJobHandle(again.jobId) }),
      });
      if (!started.started) throw new Error(`${job.id} is ${started.reason} elsewhere`);
      const id = started.entry.experimentId!;
      ids.set(job.id, id);
      startedAt.set(job.id, new Date().toISOString());
      emit({ type: 'experiment-started', key: job.id, experimentId: id, attempt: started.entry.attempts });
      const { experiment: _e, ...rest } = launchJob(resultsDir, id, job.experiment);
      const e = byKey.get(job.id)!;
      return isSlurm(e) ? { ...rest, experiment: resolvedExperiment(e.experiment) } : rest;
    },
    settle: settleWith({ journal, resultsDir, byKey, ids, startedAt, emit, state, hostShared }),
  }).finally(() => Promise.all([...[...pools.values()].map((p) => p.closeAll()), closeServers()])); // engine "server": the last server ends with the suite
  await Promise.all(writes);
  const count = (s: string) => results.filter((r) => r.outcome.status === s).length;
  const failed = results.filter((r) => r.outcome.status === 'failed' || r.error).length;
  const interrupted = count('interrupted');
  for (const r of results) {
    if (r.error && !state.outcomes.has(r.jobId)) {
      state.outcomes.set(r.jobId, {
        key: r.jobId,
        status: 'failed',
        message: r.error instanceof Error ? r.error.message : String(r.error),
      });
    } else if (!state.outcomes.has(r.jobId)) state.outcomes.set(r.jobId, { key: r.jobId, status: 'interrupted' });
  }
  const summary = {
    done: count('succeeded') - results.filter((r) => r.error && r.outcome.status === 'succeeded').length,
    failed,
    skipped,
    interrupted,
    energyJ: state.energyJ,
    seconds: (Date.now() - t0) / 1000,
  };
  emit({ type: 'suite-finished', ...summary });
  return { suite: suiteName, resultsDir, total: items.length, ...summary, experiments: [...state.outcomes.values()] };
}

interface SettleContext {
  journal: ProgressJournal;
  resultsDir: string;
  byKey: Map<string, SuiteExperiment>;
  ids: Map<string, string>;
  startedAt: Map<string, string>;
  emit: EventSink;
  state: { energyJ: number; outcomes: Map<string, SuiteExperimentOutcome> };
  hostShared: (e: SuiteExperiment) => boolean;
}

/** Record each finished job (results or failure) and close its journal entry, inside its slot. */
function settleWith(c: SettleContext) {
  return async (result: BatchResult): Promise<void> => {
    const key = result.jobId;
    const id = c.ids.get(key);
    if (id === undefined) return; // never started (interrupted while queued)
    const planned = c.byKey.get(key)!.experiment;
    const logFile = launchJob(c.resultsDir, id, planned).logFile;
    const { outcome } = result;
    if (outcome.status === 'succeeded') {
      const { recorded, metrics } = await recordSuccess(c.resultsDir, id, planned, result, c.startedAt.get(key)!, {
        energyHostShared: c.hostShared(c.byKey.get(key)!),
      });
      await c.journal.finish(
        key,
        id,
        'done',
        result.experiment.batch_size !== planned.batch_size
          ? { note: `batch_size ${result.experiment.batch_size} after OOM` }
          : {},
      );
      await rm(launchJob(c.resultsDir, id, result.experiment).outputDir, { recursive: true, force: true });
      c.state.energyJ += metrics.energy_total_j ?? 0;
      const session = outcome as Partial<SessionOutcome>;
      const modelReused = session.modelReused ?? false;
      c.state.outcomes.set(key, { key, experimentId: id, status: 'done', modelReused });
      c.emit({
        type: 'experiment-finished',
        key,
        experimentId: id,
        energyTotalJ: metrics.energy_total_j,
        energyPerTokenJ: metrics.energy_per_token_j,
        batchSize: result.experiment.batch_size,
        plannedBatchSize: planned.batch_size,
        modelReused,
        modelLoadS: session.modelLoadS ?? null,
        dir: recorded.dir,
      });
    } else if (outcome.status === 'failed') {
      await c.journal.finish(key, id, 'failed', { error: `${outcome.kind}: ${outcome.message}` });
      c.state.outcomes.set(key, {
        key,
        experimentId: id,
        status: 'failed',
        kind: outcome.kind,
        message: outcome.message,
      });
      c.emit({
        type: 'experiment-failed',
        key,
        experimentId: id,
        kind: outcome.kind,
        message: outcome.message,
        attempts: result.attempts.length,
        logFile,
      });
    } else {
      await c.journal.finish(key, id, 'interrupted');
      c.state.outcomes.set(key, { key, experimentId: id, status: 'interrupted' });
      c.emit({ type: 'experiment-interrupted', key, experimentId: id, logFile });
    }
  };
}
