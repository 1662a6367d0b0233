import { shortKey, type SuiteEvent, type SuiteReporter } from './reporter.js';

const BAR = 24;
const bar = (done: number, total: number) => {
  const filled = total > 0 ? Math.round((BAR * Math.min(done, total)) / total) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
};

interface Running {
  key: string;
  id: string;
  phase: string;
  i: number;
  n: number;
}

/**
 * An overall bar and one bar per running experiment, redrawn in place (at most 10 times a second).
 * Finished experiments scroll above the bars as plain lines.
 */
export function ttyReporter(stream: NodeJS.WriteStream): SuiteReporter {
  let total = 0;
  let finished = 0;
  let drawn = 0;
  let suite = '';
  const running = new Map<string, Running>();
  let timer: NodeJS.Timeout | undefined;

  const erase = () => {
    if (drawn) stream.write(`\u001b[${drawn}A\u001b[0J`);
    drawn = 0;
  };
  const draw = () => {
    timer = undefined;
    erase();
    const width = stream.columns ?? 100;
    const lines = [`${suite} ${bar(finished, total)} ${finished}/${total}`];
    for (const r of running.values()) {
      const step = r.n ? `${bar(r.i, r.n)} ${r.phase} ${r.i}/${r.n}` : r.phase;
      lines.push(`  ${r.id} ${shortKey(r.key)}  ${step}`);
    }
    stream.write(lines.map((l) => l.slice(0, width - 1)).join('\n') + '\n');
    drawn = lines.length;
  };
  const schedule = () => (timer ??= setTimeout(draw, 100));
  const above = (line: string) => {
    erase();
    stream.write(`${line}\n`);
    schedule();
  };

  return {
    report(e: SuiteEvent) {
      if (e.type === 'planned') {
        total = e.toRun;
        suite = e.suite;
        above(`suite ${e.suite}: ${e.total} experiments, ${e.skipped} already done, ${e.toRun} to run`);
      } else if (e.type === 'started') {
        running.set(e.key, { key: e.key, id: e.experimentId, phase: 'starting', i: 0, n: 0 });
        schedule();
      } else if (e.type === 'progress') {
        const r = running.get(e.key);
        if (r) Object.assign(r, { phase: e.phase, i: e.i ?? 0, n: e.n ?? 0 });
        schedule();
      } else if (e.type === 'retrying') {
        above(`  ${shortKey(e.key)}: ${e.reason}; retry ${e.attempt} in ${e.delayS} s${e.batchSize ? ` (batch_size ${e.batchSize})` : ''}`);
      } else if (e.type === 'finished') {
        running.delete(e.key);
        finished += 1;
        above(`  ${e.status === 'done' ? '✓' : e.status === 'failed' ? '✗' : '!'} ${e.experimentId} ${shortKey(e.key)} ${e.detail}`);
      } else if (e.type === 'summary') {
        above(`done ${e.done}, failed ${e.failed}, skipped ${e.skipped}, interrupted ${e.interrupted}; ${e.energyJ.toPrecision(4)} J; ${e.seconds.toFixed(0)} s`);
      }
    },
    close() {
      if (timer) clearTimeout(timer);
      draw();
    },
  };
}
