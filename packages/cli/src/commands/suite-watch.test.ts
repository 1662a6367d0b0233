import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput } from '../output.js';
import { startSuiteWatch } from './suite-watch.js';

describe('joules suite --watch', () => {
  it('a watch that cannot start is a warning, never the suite failing', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-suite-watch-'));
    try {
      const output = captureOutput();
      const watch = await startSuiteWatch({ port, resultsDir: dir }, output);
      expect(watch).toBeUndefined();
      expect(output.stderr.join('\n')).toMatch(
        new RegExp(
          `warning: --watch could not start \\(joules watch cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)\\); the suite runs without it`,
        ),
      );
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves on the port asked for, and a feed that throws inside never reaches the suite', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-suite-watch-'));
    const output = captureOutput();
    const watch = await startSuiteWatch({ port: 0, resultsDir: dir }, output);
    try {
      expect(output.stderr.join('\n')).toMatch(/^watch: http:\/\/127\.0\.0\.1:\d+\/$/);
      // an event the watch has never seen (a future runner's) is ignored, not thrown
      expect(() => watch!.feed({ type: 'no-such-event' } as never)).not.toThrow();
      expect(() =>
        watch!.feed({ type: 'experiment-stage', key: 'unknown', experimentId: 'x', rank: 0, stage: 'warmup' }),
      ).not.toThrow();
    } finally {
      await watch?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
