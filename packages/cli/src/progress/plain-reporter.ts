import type { Output } from '../output.js';
import { type SuiteEvent, type SuiteReporter, shortKey } from './reporter.js';
import { searchLines } from './search-lines.js';

/** One line per event that matters (logs, CI, pipes). */
export function plainReporter(output: Output): SuiteReporter {
  let finished = 0;
  let toRun = 0;
  return {
    report(e: SuiteEvent) {
      switch (e.type) {
        case 'planned':
          toRun = e.toRun;
          output.err(`suite ${e.suite}: ${e.total} experiments, ${e.skipped} already done, ${e.toRun} to run`);
          break;
        case 'started':
          output.err(
            `[${finished}/${toRun}] ${shortKey(e.key)}: started as ${e.experimentId}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`,
          );
          break;
        case 'retrying':
          output.err(
            `         ${shortKey(e.key)}: ${e.reason}; retry ${e.attempt} in ${e.delayS} s${e.batchSize ? ` with batch_size ${e.batchSize}` : ''}`,
          );
          break;
        case 'finished':
          finished += 1;
          output.err(`[${finished}/${toRun}] ${shortKey(e.key)}: ${e.status} ${e.detail}`);
          break;
        case 'search-step':
        case 'search-verdict':
        case 'search-result':
          for (const line of searchLines(e)) output.err(line);
          break;
        case 'summary':
          output.err(
            `done ${e.done}, failed ${e.failed}, skipped ${e.skipped}, interrupted ${e.interrupted}; ` +
              `${e.energyJ.toPrecision(4)} J measured; ${e.seconds.toFixed(0)} s`,
          );
          break;
        default:
          break;
      }
    },
    close() {},
  };
}

/** NDJSON on stdout, one event per line (`--json`). */
export function jsonReporter(output: Output): SuiteReporter {
  return { report: (e) => output.out(JSON.stringify(e)), close() {} };
}
