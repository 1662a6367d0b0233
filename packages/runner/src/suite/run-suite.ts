import path from 'node:path';
import type { SuiteExperiment } from '@joules/config';
import { closeServers, type Launcher, runBatch } from '@joules/launcher';
import { type EventSink, safeSink } from '../events.js';
import { launcherCache } from '../experiment/launcher-cache.js';
import type { SuiteOutcome } from '../outcomes.js';
import { runSearch } from '../search/run-search.js';
import { resolveWorkerEnv } from '../worker-env.js';
import { suiteBatchHooks } from './batch-hooks.js';
import { dryRunTexts, hostSharing, loadRunnableSuite } from './load-suite.js';
import { planSuite } from './plan-suite.js';
import { suiteJobs } from './suite-jobs.js';
import type { SuiteRun } from './suite-run.js';
import { tallySuite } from './tally-suite.js';

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

/**
 * A whole suite: expand it, skip what the journal says is done, run the rest (retries, the GPU
 * pool, `maxParallel`), record everything. Killed and started again, it resumes; Slurm jobs of a
 * killed run are reattached. Bad config rejects with a RunConfigError before anything runs.
 */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteOutcome> {
  // A search suite (`search:`) runs the points its strategy picks, step by step (search/run-search.ts).
  const emit = safeSink(options.onEvent);
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.suite);
  const suite = await loadRunnableSuite(file, cwd, options, emit);
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcherFor = launcherCache(worker, path.dirname(file), {
    detach: options.detach === true,
    ...(options.launcher && { override: options.launcher }),
  });
  const total = suite.experiments.length;
  if (options.dryRun) {
    const dryRun = await dryRunTexts(suite.experiments, resultsDir, launcherFor);
    const none = { done: 0, failed: 0, skipped: 0, interrupted: 0, energyJ: 0, seconds: 0 };
    return { suite: suite.name, resultsDir, total, ...none, experiments: [], dryRun };
  }
  const maxParallel = options.maxParallel ?? 1;
  const hostShared = hostSharing(suite.experiments, maxParallel);
  const startedAtMs = Date.now();
  const reuse = options.reuseModel === true || suite.reuseModel;
  if (suite.search) {
    const round = {
      launcherFor,
      reuse,
      maxParallel,
      rerunFailed: options.rerunFailed === true,
      rerunChanged: options.rerunChanged === true,
      ...(options.gpus && { gpus: options.gpus }),
      ...(options.signal && { signal: options.signal }),
    };
    return runSearch({ suite: { ...suite, search: suite.search }, resultsDir, emit, hostShared, round, startedAtMs });
  }
  const { journal, plan, skipped } = await planSuite(suite, resultsDir, options, emit);
  const run: SuiteRun = {
    resultsDir,
    emit,
    journal,
    byKey: new Map<string, SuiteExperiment>(suite.experiments.map((e) => [e.key, e])),
    ids: new Map(),
    startedAt: new Map(),
    reattach: new Map(),
    hostShared,
    writes: [],
    energyJ: 0,
    outcomes: new Map(),
  };
  const { jobs, pools } = await suiteJobs(run, plan.run, reuse, launcherFor);
  const results = await runBatch(jobs, {
    launcher: jobs[0]?.launcher ?? (await launcherFor(suite.experiments[0]!.experiment)),
    maxParallel,
    ...(options.gpus && { gpus: options.gpus }),
    ...(options.signal && { signal: options.signal }),
    ...suiteBatchHooks(run),
  }).finally(() => Promise.all([...pools.map((p) => p.closeAll()), closeServers()])); // engine "server": the last server ends with the suite
  await Promise.all(run.writes);
  const tally = tallySuite(run, results, { skipped, startedAtMs });
  emit({ type: 'suite-finished', ...tally });
  return { suite: suite.name, resultsDir, total, ...tally, experiments: [...run.outcomes.values()] };
}
