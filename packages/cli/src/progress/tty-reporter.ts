import cliProgress from 'cli-progress';
import { type SuiteEvent, type SuiteReporter, shortKey } from './reporter.js';
import { searchLines } from './search-lines.js';

/**
 * cli-progress bars on a terminal: the suite's overall bar and one bar per running experiment
 * (its phase, warm-up or batch i of n), redrawn in place at most 10 times a second; finished
 * experiments, retries and the summary scroll above the bars as plain lines.
 */
export function ttyReporter(stream: NodeJS.WriteStream): SuiteReporter {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: '{label} {bar} {step}',
      barsize: 24,
      fps: 10,
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      linewrap: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let overall: cliProgress.SingleBar | undefined;
  let finished = 0;
  let total = 0;
  const running = new Map<string, cliProgress.SingleBar>();
  const log = (line: string) => multi.log(`${line}\n`);
  const step = () => ({ step: `${finished}/${total}` });

  return {
    report(e: SuiteEvent) {
      if (e.type === 'planned') {
        total = e.toRun;
        overall = multi.create(Math.max(total, 1), 0, { label: e.suite, ...step() });
        log(`suite ${e.suite}: ${e.total} experiments, ${e.skipped} already done, ${e.toRun} to run`);
      } else if (e.type === 'started') {
        running.set(e.key, multi.create(1, 0, { label: `  ${e.experimentId} ${shortKey(e.key)}`, step: 'starting' }));
      } else if (e.type === 'progress') {
        const bar = running.get(e.key);
        if (!bar) return;
        if (e.n) {
          bar.setTotal(e.n);
          bar.update(e.i ?? 0, { step: `${e.phase} ${e.i ?? 0}/${e.n}` });
        } else bar.update(0, { step: e.phase });
      } else if (e.type === 'retrying') {
        log(
          `  ${shortKey(e.key)}: ${e.reason}; retry ${e.attempt} in ${e.delayS} s${e.batchSize ? ` (batch_size ${e.batchSize})` : ''}`,
        );
      } else if (e.type === 'finished') {
        const bar = running.get(e.key);
        if (bar) multi.remove(bar);
        running.delete(e.key);
        finished += 1;
        overall?.update(finished, step());
        log(
          `  ${e.status === 'done' ? '✓' : e.status === 'failed' ? '✗' : '!'} ${e.experimentId} ${shortKey(e.key)} ${e.detail}`,
        );
      } else if (e.type === 'search-step' || e.type === 'search-verdict' || e.type === 'search-result') {
        for (const line of searchLines(e)) log(line);
      } else if (e.type === 'summary') {
        log(
          `done ${e.done}, failed ${e.failed}, skipped ${e.skipped}, interrupted ${e.interrupted}; ${e.energyJ.toPrecision(4)} J; ${e.seconds.toFixed(0)} s`,
        );
      }
    },
    close() {
      multi.stop();
    },
  };
}
