import { rm } from 'node:fs/promises';
import path from 'node:path';
import { loadExperimentFile, type Experiment } from '@joules/config';
import { dryRun, runWithRetry, type JobEvent } from '@joules/launcher';
import type { ExperimentMetrics } from '@joules/metrics';
import { allocateExperimentId, type RecordedExperiment } from '@joules/tracker';
import { EXIT } from '../errors.js';
import { failureRecorder, launchJob, launcherCache, recordSuccess, retryPolicy } from '../experiment-jobs.js';
import { fmt } from '../format.js';
import { isMultiMachine } from '../machines.js';
import { bold, dim, red, type Output } from '../output.js';
import { resolveWorkerEnv } from '../worker-env.js';

export interface RunOptions {
  config: string;
  set?: string[];
  resultsDir?: string;
  json?: boolean;
  python?: string;
  cwd?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
}

function progress(output: Output, event: JobEvent): void {
  const who = dim(output, `[${event.jobId}]`);
  if (event.type === 'retrying') {
    output.err(`${who} retry in ${(event.delayMs / 1000).toFixed(0)} s${event.batchSize !== event.previousBatchSize ? ` with batch_size ${event.batchSize}` : ''}`);
  } else if (event.type === 'attempt-failed') {
    output.err(`${who} ${red(output, `attempt ${event.attempt} failed (${event.kind}): ${event.message}`)}; ${event.reason}`);
  } else if (event.type === 'worker') {
    const e = event.event;
    const rank = dim(output, `rank ${e.rank}`);
    if (e.event === 'stage') output.err(`${who} ${rank} ${e.stage.replace('_', ' ')}`);
    else if (e.event === 'warmup') output.err(`${who} ${rank} warm-up ${e.i}/${e.n}`);
    else if (e.event === 'batch') output.err(`${who} ${rank} batch ${e.i}/${e.n} (${e.size} prompts, ${e.latency_s.toFixed(3)} s)`);
  }
}

/** `joules run <config>`: one experiment, with retries, recorded under the results folder. */
export async function run(options: RunOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.config);
  const loaded = await loadExperimentFile(file, { resolvePaths: true, cwd, ...(options.set && { set: options.set }) });
  const { result } = loaded;
  for (const w of result.warnings) output.err(`warning: ${w}`);
  if (!result.config) {
    for (const e of result.errors) output.err(e);
    return EXIT.usage;
  }
  const experiment = result.config;
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcher = await launcherCache(worker, path.dirname(file))(experiment);

  if (options.dryRun) {
    output.out(dryRun(launcher, launchJob(resultsDir, '<id>', experiment)).text);
    return EXIT.ok;
  }
  const machines = experiment.launch.machines.num_machines;
  output.err(`${bold(output, 'joules run')} ${experiment.config_name}: ${experiment.model_name}, ` +
    `${experiment.num_processes} process(es)${machines > 1 ? ` on ${machines} machines` : ''} on ${experiment.gpu_ids.length ? `GPU ${experiment.gpu_ids.join(',')}` : 'CPU'} (${launcher.name})`);
  const rel = (p: string) => path.relative(cwd, p) || '.';

  if (isMultiMachine(experiment)) {
    const { runOnMachines } = await import('./run-machines.js');
    const done = await runOnMachines({
      experiment, resultsDir, launcher, output, json: options.json === true, rel,
      progress: (event) => progress(output, event), ...(options.signal && { signal: options.signal }),
    });
    if (typeof done === 'number') return done;
    printRecorded(output, options, rel, { ...done, experiment, resultsDir });
    return EXIT.ok;
  }

  const experimentId = await allocateExperimentId(resultsDir);
  const job = launchJob(resultsDir, experimentId, experiment);
  const startedAt = new Date().toISOString();
  const recordFailure = failureRecorder(resultsDir, () => experimentId);
  const writes: Promise<void>[] = [];
  const outcome = await runWithRetry(launcher, { ...job, id: experimentId }, retryPolicy(experiment), {
    ...(options.signal && { signal: options.signal }),
    onEvent: (event) => {
      progress(output, event);
      writes.push(recordFailure(event));
    },
  });
  await Promise.all(writes);

  if (outcome.outcome.status === 'interrupted') {
    output.err(red(output, `experiment ${experimentId} interrupted; nothing was recorded (log: ${rel(job.logFile)})`));
    if (options.json) output.out(JSON.stringify({ experiment_id: experimentId, status: 'interrupted' }));
    return EXIT.interrupted;
  }
  if (outcome.outcome.status === 'failed') {
    const { kind, message } = outcome.outcome;
    output.err(red(output, `experiment ${experimentId} failed (${kind}) after ${outcome.attempts.length} attempt(s): ${message}`));
    output.err(`log: ${rel(job.logFile)}; failures recorded in ${rel(path.join(resultsDir, 'failed_experiments.csv'))}`);
    if (options.json) output.out(JSON.stringify({ experiment_id: experimentId, status: 'failed', kind, message, attempts: outcome.attempts.length, log: job.logFile }));
    return EXIT.failed;
  }
  const { recorded, metrics } = await recordSuccess(resultsDir, experimentId, experiment, outcome, startedAt);
  await rm(job.outputDir, { recursive: true, force: true });
  printRecorded(output, options, rel, { experimentId, experiment, ran: outcome.experiment, recorded, metrics, resultsDir });
  return EXIT.ok;
}

interface Recorded {
  experimentId: string;
  experiment: Experiment;
  ran: Experiment;
  recorded: RecordedExperiment;
  metrics: ExperimentMetrics;
  resultsDir: string;
}

/** The summary of a recorded experiment (stdout), and the JSON line with --json. */
function printRecorded(output: Output, options: RunOptions, rel: (p: string) => string, r: Recorded): void {
  const { experimentId, experiment, ran, recorded: rec, metrics: m } = r;
  const lines: [string, string][] = [
    ['experiment', `${experimentId} (${experiment.config_name})${ran.batch_size !== experiment.batch_size ? `, batch_size ${ran.batch_size} after OOM` : ''}`],
    ['energy', `${fmt(m.energy_total_j, 'J')}  (${fmt(m.energy_total_kwh, 'kWh')}, ${m.energy_backend}${m.energy_estimated ? ', ESTIMATED' : ''})`],
    ['tokens', `${m.total_output_tokens} generated from ${m.num_prompts} prompts (${m.total_input_tokens} input tokens)`],
    ['throughput', `${fmt(m.throughput_tokens_per_s, 'tokens/s')}, ${fmt(m.throughput_queries_per_s, 'queries/s')}`],
    ['J/token', fmt(m.energy_per_token_j, 'J')],
    ['tokens/J', fmt(m.tokens_per_j)],
    ['latency', `mean ${fmt(m.latency_mean_s, 's')} per batch, p99 ${fmt(m.latency_p99_s, 's')}`],
    ['FLOPs', `${fmt(m.flops_total)} (${fmt(m.flops_per_j)} per J)`],
    ['files', `${rel(rec.dir)}/ (${rec.files.length} files), ${rel(rec.csvFile)}`],
  ];
  for (const [k, v] of lines) output.out(`  ${k.padEnd(11)} ${v}`);
  if (m.energy_estimated) output.out(dim(output, '  (estimated energy: no hardware energy counter was available; see the _7_ file notes)'));
  if (rec.rotatedCsv) output.err(`note: ${rel(rec.csvFile)} had other columns and was moved to ${rel(rec.rotatedCsv)}`);
  if (options.json) {
    output.out(JSON.stringify({ experiment_id: experimentId, status: 'succeeded', results_dir: r.resultsDir, dir: rec.dir, csv: rec.csvFile, metrics: rec.row }));
  }
}
