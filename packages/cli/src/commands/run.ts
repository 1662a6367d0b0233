import path from 'node:path';
import { type ExperimentOutcome, type RunnerEvent, runExperiment } from '@joules/runner';
import { EXIT } from '../errors.js';
import { fmt } from '../format.js';
import { bold, dim, type Output, red } from '../output.js';

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

/** Runner events as `joules run` prints them (stderr). */
function progress(output: Output, event: RunnerEvent): void {
  const who = 'key' in event && event.key ? dim(output, `[${event.key}]`) : '';
  switch (event.type) {
    case 'experiment-planned': {
      const e = event.experiment;
      const machines = e.launch.machines.num_machines;
      output.err(
        `${bold(output, 'joules run')} ${e.config_name}: ${e.model_name}, ` +
          `${e.num_processes} process(es)${machines > 1 ? ` on ${machines} machines` : ''} on ${e.gpu_ids.length ? `GPU ${e.gpu_ids.join(',')}` : 'CPU'} (${event.launcher})`,
      );
      break;
    }
    case 'notice':
      if (event.level === 'warning' || event.level === 'note') output.err(`${event.level}: ${event.message}`);
      else output.err(event.level === 'error' ? red(output, event.message) : event.message);
      break;
    case 'experiment-retrying':
      output.err(
        `${who} retry in ${(event.delayMs / 1000).toFixed(0)} s${event.batchSize !== event.previousBatchSize ? ` with batch_size ${event.batchSize}` : ''}`,
      );
      break;
    case 'experiment-attempt-failed':
      output.err(
        `${who} ${red(output, `attempt ${event.attempt} failed (${event.kind}): ${event.message}`)}; ${event.reason}`,
      );
      break;
    case 'experiment-stage':
      output.err(`${who} ${dim(output, `rank ${event.rank}`)} ${event.stage.replace('_', ' ')}`);
      break;
    case 'experiment-progress': {
      const rank = dim(output, `rank ${event.rank}`);
      if (event.phase === 'warmup') output.err(`${who} ${rank} warm-up ${event.i}/${event.n}`);
      else
        output.err(
          `${who} ${rank} batch ${event.i}/${event.n} (${event.size} prompts, ${(event.latencyS ?? 0).toFixed(3)} s)`,
        );
      break;
    }
    default:
      break;
  }
}

/** `joules run <config>`: maps the arguments to runExperiment and its outcome to text and an exit code. */
export async function run(options: RunOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const outcome = await runExperiment({
    config: options.config,
    cwd,
    ...(options.set && { set: options.set }),
    ...(options.resultsDir !== undefined && { resultsDir: options.resultsDir }),
    ...(options.python !== undefined && { python: options.python }),
    ...(options.signal && { signal: options.signal }),
    dryRun: options.dryRun === true,
    onEvent: (event) => progress(output, event),
  });
  return printOutcome(output, options.json === true, (p) => path.relative(cwd, p) || '.', outcome);
}

function printOutcome(output: Output, json: boolean, rel: (p: string) => string, o: ExperimentOutcome): number {
  switch (o.status) {
    case 'dry-run':
      output.out(o.text);
      return EXIT.ok;
    case 'interrupted':
      output.err(
        red(output, `experiment ${o.experimentId} interrupted; nothing was recorded (log: ${rel(o.logFile)})`),
      );
      if (json) output.out(JSON.stringify({ experiment_id: o.experimentId, status: 'interrupted' }));
      return EXIT.interrupted;
    case 'failed':
      output.err(
        red(output, `experiment ${o.experimentId} failed (${o.kind}) after ${o.attempts} attempt(s): ${o.message}`),
      );
      output.err(
        `log: ${rel(o.logFile)}; failures recorded in ${rel(path.join(o.resultsDir, 'failed_experiments.csv'))}`,
      );
      if (json)
        output.out(
          JSON.stringify({
            experiment_id: o.experimentId,
            status: 'failed',
            kind: o.kind,
            message: o.message,
            attempts: o.attempts,
            log: o.logFile,
          }),
        );
      // The GPU guard refused gpu.* (permission, support, range), or the worker found the config unrunnable
      // (a dataset or trace file without the fields it needs, a prompt pool too small): bad input, exit 2.
      return o.kind === 'gpu_control' || o.kind === 'bad_config' ? EXIT.usage : EXIT.failed;
    case 'followed':
      if (json && o.experimentId !== undefined && o.result !== 'interrupted') {
        output.out(
          JSON.stringify(
            o.result === 'succeeded'
              ? { experiment_id: o.experimentId, status: 'succeeded', machine_rank: o.machineRank, recorded_by: 0 }
              : { experiment_id: o.experimentId, status: 'failed', machine_rank: o.machineRank, kind: o.kind },
          ),
        );
      }
      return o.result === 'succeeded' ? EXIT.ok : o.result === 'failed' ? EXIT.failed : EXIT.interrupted;
    case 'succeeded':
      printRecorded(output, json, rel, o);
      return EXIT.ok;
  }
}

/** The summary of a recorded experiment (stdout), and the JSON line with --json. */
function printRecorded(
  output: Output,
  json: boolean,
  rel: (p: string) => string,
  r: Extract<ExperimentOutcome, { status: 'succeeded' }>,
): void {
  const { experimentId, experiment, ran, recorded: rec, metrics: m } = r;
  const lines: [string, string][] = [
    [
      'experiment',
      `${experimentId} (${experiment.config_name})${ran.batch_size !== experiment.batch_size ? `, batch_size ${ran.batch_size} after OOM` : ''}`,
    ],
    [
      'energy',
      `${fmt(m.energy_total_j, 'J')}  (${fmt(m.energy_total_kwh, 'kWh')}, ${m.energy_backend}${m.energy_estimated ? ', ESTIMATED' : ''})`,
    ],
    [
      'tokens',
      `${m.total_output_tokens} generated from ${m.num_prompts} prompts (${m.total_input_tokens} input tokens)`,
    ],
    ['throughput', `${fmt(m.throughput_tokens_per_s, 'tokens/s')}, ${fmt(m.throughput_queries_per_s, 'queries/s')}`],
    ['J/token', fmt(m.energy_per_token_j, 'J')],
    ['tokens/J', fmt(m.tokens_per_j)],
    ['latency', `mean ${fmt(m.latency_mean_s, 's')} per batch, p99 ${fmt(m.latency_p99_s, 's')}`],
    ['FLOPs', `${fmt(m.flops_total)} (${fmt(m.flops_per_j)} per J)`],
    ['files', `${rel(rec.dir)}/ (${rec.files.length} files), ${rel(rec.csvFile)}`],
  ];
  for (const [k, v] of lines) output.out(`  ${k.padEnd(11)} ${v}`);
  if (m.energy_estimated)
    output.out(dim(output, '  (estimated energy: no hardware energy counter was available; see the _7_ file notes)'));
  if (rec.rotatedCsv) output.err(`note: ${rel(rec.csvFile)} had other columns and was moved to ${rel(rec.rotatedCsv)}`);
  if (json) {
    output.out(
      JSON.stringify({
        experiment_id: experimentId,
        status: 'succeeded',
        results_dir: r.resultsDir,
        dir: rec.dir,
        csv: rec.csvFile,
        metrics: rec.row,
      }),
    );
  }
}
