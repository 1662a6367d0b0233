import path from 'node:path';
import { loadExperimentFile } from '@joules/config';
import { AccelerateLauncher, type LaunchEvent } from '@joules/launcher';
import { EXIT } from '../errors.js';
import { fmt } from '../format.js';
import { bold, dim, red, type Output } from '../output.js';
import { runExperiment } from '../run-experiment.js';
import { resolveWorkerEnv } from '../worker-env.js';

export interface RunOptions {
  config: string;
  set?: string[];
  resultsDir?: string;
  json?: boolean;
  python?: string;
  cwd?: string;
  signal?: AbortSignal;
}

function progress(output: Output, event: LaunchEvent, id: string): void {
  if (event.type !== 'worker') return;
  const e = event.event;
  const who = dim(output, `[${id} rank ${e.rank}]`);
  if (e.event === 'stage') output.err(`${who} ${e.stage.replace('_', ' ')}`);
  else if (e.event === 'warmup') output.err(`${who} warm-up ${e.i}/${e.n}`);
  else if (e.event === 'batch') output.err(`${who} batch ${e.i}/${e.n} (${e.size} prompts, ${e.latency_s.toFixed(3)} s)`);
  else if (e.event === 'error') output.err(`${who} ${red(output, `${e.kind}: ${e.message}`)}`);
}

/** `joules run <config>`: one experiment, recorded under the results folder. */
export async function run(options: RunOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.config);
  const { result } = await loadExperimentFile(file, { resolvePaths: true, cwd, ...(options.set && { set: options.set }) });
  for (const w of result.warnings) output.err(`warning: ${w}`);
  if (!result.config) {
    for (const e of result.errors) output.err(e);
    return EXIT.usage;
  }
  const experiment = result.config;
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const worker = await resolveWorkerEnv(options.python);
  const launcher = new AccelerateLauncher({ accelerateBin: worker.accelerate });

  output.err(`${bold(output, 'joules run')} ${experiment.config_name}: ${experiment.model_name}, ` +
    `${experiment.num_processes} process(es) on ${experiment.gpu_ids.length ? `GPU ${experiment.gpu_ids.join(',')}` : 'CPU'}`);
  const r = await runExperiment({
    experiment,
    resultsDir,
    launcher,
    ...(options.signal && { signal: options.signal }),
    onEvent: (event, id) => progress(output, event, id),
  });
  const rel = (p: string) => path.relative(cwd, p) || '.';

  if (r.outcome.status === 'interrupted') {
    output.err(red(output, `experiment ${r.experimentId} interrupted; nothing was recorded (log: ${rel(r.logFile)})`));
    if (options.json) output.out(JSON.stringify({ experiment_id: r.experimentId, status: 'interrupted' }));
    return EXIT.interrupted;
  }
  if (r.outcome.status === 'failed') {
    output.err(red(output, `experiment ${r.experimentId} failed (${r.outcome.kind}): ${r.outcome.message}`));
    output.err(`log: ${rel(r.logFile)}; failure recorded in ${rel(r.failureLog!)}`);
    if (options.json) {
      output.out(JSON.stringify({ experiment_id: r.experimentId, status: 'failed', kind: r.outcome.kind, message: r.outcome.message, log: r.logFile }));
    }
    return EXIT.failed;
  }
  const m = r.metrics!;
  const rec = r.recorded!;
  const lines: [string, string][] = [
    ['experiment', `${r.experimentId} (${experiment.config_name})`],
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
    output.out(JSON.stringify({ experiment_id: r.experimentId, status: 'succeeded', results_dir: resultsDir, dir: rec.dir, csv: rec.csvFile, metrics: rec.row }));
  }
  return EXIT.ok;
}
