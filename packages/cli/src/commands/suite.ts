import { type RunnerEvent, runSuite } from '@joules/runner';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';
import { jsonReporter, plainReporter } from '../progress/plain-reporter.js';
import type { SuiteReporter } from '../progress/reporter.js';
import { ttyReporter } from '../progress/tty-reporter.js';
import { startSuiteWatch } from './suite-watch.js';

export interface SuiteOptions {
  file: string;
  set?: string[];
  skipInvalid?: boolean;
  resultsDir?: string;
  maxParallel?: number;
  gpus?: number[];
  rerunFailed?: boolean;
  rerunChanged?: boolean;
  reuseModel?: boolean;
  dryRun?: boolean;
  /** Slurm: on Ctrl-C / SIGTERM leave the jobs queued and running (a later run reattaches). */
  detach?: boolean;
  json?: boolean;
  python?: string;
  cwd?: string;
  signal?: AbortSignal;
  /** Stream for live bars; default: stderr when it is a TTY, else plain lines. */
  tty?: NodeJS.WriteStream;
  /** Serve the live dashboard (`joules watch`) while the suite runs: on this port, or the default one. */
  watch?: number | true;
}

function pickReporter(options: SuiteOptions, output: Output): SuiteReporter {
  if (options.json) return jsonReporter(output);
  const tty = options.tty ?? (process.stderr.isTTY ? process.stderr : undefined);
  return tty ? ttyReporter(tty) : plainReporter(output);
}

/** Runner events → the reporter's vocabulary (the --json NDJSON keeps its shape). */
function report(reporter: SuiteReporter, output: Output, event: RunnerEvent): void {
  switch (event.type) {
    case 'notice':
      output.err(
        event.level === 'warning' || event.level === 'note' ? `${event.level}: ${event.message}` : event.message,
      );
      break;
    case 'suite-planned':
      reporter.report({
        type: 'planned',
        suite: event.suite,
        total: event.total,
        toRun: event.toRun,
        skipped: event.skipped,
      });
      break;
    case 'experiment-started':
      reporter.report({ type: 'started', key: event.key, experimentId: event.experimentId, attempt: event.attempt });
      break;
    case 'experiment-stage':
      if (event.rank === 0) reporter.report({ type: 'progress', key: event.key, phase: event.stage.replace('_', ' ') });
      break;
    case 'experiment-progress':
      if (event.rank === 0)
        reporter.report({
          type: 'progress',
          key: event.key,
          phase: event.phase === 'warmup' ? 'warm-up' : 'batch',
          i: event.i,
          n: event.n,
        });
      break;
    case 'experiment-retrying':
      reporter.report({
        type: 'retrying',
        key: event.key,
        attempt: event.attempt + 1,
        delayS: Math.round(event.delayMs / 1000),
        reason: 'failed',
        ...(event.batchSize !== event.previousBatchSize && { batchSize: event.batchSize }),
      });
      break;
    case 'experiment-finished': {
      const detail = event.energyPerTokenJ === null ? '' : `${event.energyPerTokenJ.toPrecision(3)} J/token`;
      reporter.report({ type: 'finished', key: event.key, experimentId: event.experimentId, status: 'done', detail });
      break;
    }
    case 'experiment-failed':
      reporter.report({
        type: 'finished',
        key: event.key,
        experimentId: event.experimentId,
        status: 'failed',
        detail: `${event.kind}: ${event.message}`,
      });
      break;
    case 'experiment-interrupted':
      reporter.report({
        type: 'finished',
        key: event.key,
        experimentId: event.experimentId,
        status: 'interrupted',
        detail: '',
      });
      break;
    case 'search-step':
      reporter.report({ type: 'search-step', round: event.round, propose: event.propose, pruned: event.pruned });
      break;
    case 'search-verdict': {
      const { point, met, objective, cycles } = event;
      reporter.report({ type: 'search-verdict', point, met, objective, cycles });
      break;
    }
    case 'search-finished':
      reporter.report({ type: 'search-result', file: event.file, result: event.result });
      break;
    case 'suite-finished':
      reporter.report({
        type: 'summary',
        done: event.done,
        failed: event.failed,
        skipped: event.skipped,
        interrupted: event.interrupted,
        energyJ: event.energyJ,
        seconds: event.seconds,
      });
      break;
    default:
      break;
  }
}

/** `joules suite <suite.yaml>`: maps the arguments to runSuite and its events to a reporter. */
export async function suite(options: SuiteOptions, output: Output): Promise<number> {
  let reporter: SuiteReporter | undefined;
  const watch =
    options.watch !== undefined && !options.dryRun
      ? await startSuiteWatch(
          {
            port: options.watch,
            ...(options.resultsDir !== undefined && { resultsDir: options.resultsDir }),
            ...(options.cwd !== undefined && { cwd: options.cwd }),
          },
          output,
        )
      : undefined;
  const outcome = await runSuite({
    suite: options.file,
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    ...(options.set && { set: options.set }),
    ...(options.resultsDir !== undefined && { resultsDir: options.resultsDir }),
    ...(options.python !== undefined && { python: options.python }),
    ...(options.gpus && { gpus: options.gpus }),
    ...(options.signal && { signal: options.signal }),
    maxParallel: options.maxParallel ?? 1,
    skipInvalid: options.skipInvalid === true,
    rerunFailed: options.rerunFailed === true,
    rerunChanged: options.rerunChanged === true,
    reuseModel: options.reuseModel === true,
    dryRun: options.dryRun === true,
    detach: options.detach === true,
    onEvent: (event) => {
      watch?.feed(event);
      if (event.type === 'suite-planned') reporter = pickReporter(options, output);
      if (reporter) report(reporter, output, event);
      else if (event.type === 'notice') report(plainReporter(output), output, event);
    },
  }).finally(() => watch?.close().catch(() => {}));
  reporter?.close();
  if (outcome.dryRun) {
    for (const { key, text } of outcome.dryRun) {
      output.out(`# ${key}`);
      output.out(text);
    }
    return EXIT.ok;
  }
  if (!options.json && outcome.done + outcome.skipped > 0)
    output.err(
      `per configuration, each figure's mean ± 95 % CI over its cycles: joules results --summary --results-dir ${outcome.resultsDir}`,
    );
  if (options.signal?.aborted || outcome.interrupted) return EXIT.interrupted;
  return outcome.failed ? EXIT.failed : EXIT.ok;
}
