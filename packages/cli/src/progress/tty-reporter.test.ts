import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ttyReporter } from './tty-reporter.js';

/** A terminal as cli-progress sees one: a TTY stream of 100 columns that records what is drawn. */
function fakeTty() {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let written = '';
  stream.on('data', (d: Buffer) => (written += d.toString()));
  Object.assign(stream, { isTTY: true, columns: 100, rows: 40, text: () => written });
  return stream;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ttyReporter (cli-progress)', () => {
  it('draws the suite bar and a bar per running experiment, and logs finished ones above them', async () => {
    const tty = fakeTty();
    const r = ttyReporter(tty);
    r.report({ type: 'planned', suite: 'demo', total: 3, toRun: 2, skipped: 1 });
    r.report({ type: 'started', key: '/m/tiny::demo::a::1', experimentId: '000001', attempt: 1 });
    r.report({ type: 'progress', key: '/m/tiny::demo::a::1', phase: 'batch', i: 1, n: 4 });
    await tick(250);
    r.report({
      type: 'finished',
      key: '/m/tiny::demo::a::1',
      experimentId: '000001',
      status: 'done',
      detail: '1.2e-3 J/token',
    });
    r.report({ type: 'summary', done: 1, failed: 0, skipped: 1, interrupted: 0, energyJ: 2.5, seconds: 3 });
    await tick(250);
    r.close();
    const text = tty.text();
    expect(text).toContain('suite demo: 3 experiments, 1 already done, 2 to run');
    expect(text).toContain('000001 tiny::demo::a::1');
    expect(text).toContain('batch 1/4');
    expect(text).toMatch(/█+░+/);
    expect(text).toContain('✓ 000001 tiny::demo::a::1 1.2e-3 J/token');
    expect(text).toContain('done 1, failed 0, skipped 1, interrupted 0; 2.500 J; 3 s');
    expect(text).toContain('1/2');
  });
});
