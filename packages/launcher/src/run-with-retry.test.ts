import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fake, job } from './__fixtures__/helpers.js';
import type { JobEvent } from './job-events.js';
import { PythonLauncher } from './python-launcher.js';
import { runWithRetry } from './run-with-retry.js';

// Real fixture worker processes; backoff 0 so nothing waits (the waits are tested with fake timers).
const launcher = new PythonLauncher({ pythonBin: fake });
const noWait = { backoffBaseS: 0 };
const seenBatchSizes = async (dir: string) =>
  (await readFile(path.join(dir, 'attempts.txt'), 'utf8')).trim().split('\n').map(Number);

describe('runWithRetry with fixture workers', { timeout: 30_000 }, () => {
  it('OOM above batch size 2: the worker reads 8, 4, then 2 from its config and succeeds', async () => {
    const j = await job('oom-above', { batch_size: 8 }, { id: 'exp-1' });
    j.env = { ...j.env, FAKE_OOM_ABOVE: '2', FAKE_ATTEMPTS_FILE: path.join(j.dir, 'attempts.txt') };
    const events: JobEvent[] = [];
    const result = await runWithRetry(launcher, j, { ...noWait, maxRetries: 5 }, { onEvent: (e) => events.push(e) });
    expect(result.outcome.status).toBe('succeeded');
    expect(await seenBatchSizes(j.dir)).toEqual([8, 4, 2]);
    expect(result.experiment.batch_size).toBe(2);
    expect(result.attempts.map((a) => [a.attempt, a.experiment.batch_size, a.outcome.status])).toEqual([
      [1, 8, 'failed'],
      [2, 4, 'failed'],
      [3, 2, 'succeeded'],
    ]);
    if (result.outcome.status === 'succeeded')
      expect(result.outcome.rankFiles).toEqual([path.join(j.outputDir, 'attempt-3', 'rank-0.json')]);
    const failed = events.filter((e) => e.type === 'attempt-failed');
    expect(failed.map((e) => e.type === 'attempt-failed' && [e.kind, e.reason, e.experiment.batch_size])).toEqual([
      ['oom', 'out of memory: batch size 8 → 4', 8],
      ['oom', 'out of memory: batch size 4 → 2', 4],
    ]);
    expect(events.filter((e) => e.type === 'retrying')).toEqual([
      { type: 'retrying', jobId: 'exp-1', attempt: 2, delayMs: 0, batchSize: 4, previousBatchSize: 8 },
      { type: 'retrying', jobId: 'exp-1', attempt: 3, delayMs: 0, batchSize: 2, previousBatchSize: 4 },
    ]);
    expect(events.filter((e) => e.type === 'started').map((e) => e.type === 'started' && e.batchSize)).toEqual([
      8, 4, 2,
    ]);
    // Every attempt is in the one log, each under its own header.
    expect((await readFile(j.logFile, 'utf8')).match(/^--- joules: exp-1, attempt \d/gm)).toEqual(
      [1, 2, 3].map((n) => `--- joules: exp-1, attempt ${n}`),
    );
  });

  it('OOM even at batch size 1: gives up there', async () => {
    const j = await job('oom-above', { batch_size: 3 });
    j.env = { ...j.env, FAKE_OOM_ABOVE: '0', FAKE_ATTEMPTS_FILE: path.join(j.dir, 'attempts.txt') };
    const result = await runWithRetry(launcher, j, { ...noWait, maxRetries: 10 });
    expect(await seenBatchSizes(j.dir)).toEqual([3, 1]);
    expect(result).toMatchObject({
      outcome: { status: 'failed', kind: 'oom' },
      reason: 'out of memory at batch size 1',
    });
  });

  it('transient failures are retried until the worker gets through', async () => {
    const j = await job('flaky');
    j.env = {
      ...j.env,
      FAKE_FLAKY_TIMES: '3',
      FAKE_FLAKY_EXIT: '7',
      FAKE_ATTEMPTS_FILE: path.join(j.dir, 'attempts.txt'),
    };
    const result = await runWithRetry(launcher, j, { ...noWait, maxRetries: 3 });
    expect(result.attempts.map((a) => (a.outcome.status === 'failed' ? a.outcome.kind : a.outcome.status))).toEqual([
      'transient',
      'transient',
      'succeeded',
    ]);
  });

  it('a bad config is not retried', async () => {
    const j = await job('flaky');
    j.env = {
      ...j.env,
      FAKE_FLAKY_TIMES: '2',
      FAKE_FLAKY_EXIT: '3',
      FAKE_ATTEMPTS_FILE: path.join(j.dir, 'attempts.txt'),
    };
    const result = await runWithRetry(launcher, j, { ...noWait, maxRetries: 3 });
    expect(result.attempts).toHaveLength(1);
    expect(result).toMatchObject({
      outcome: { status: 'failed', kind: 'bad_config', exitCode: 3 },
      reason: 'bad_config is not retried',
    });
  });

  it('a hung worker is killed at each timeout and retried, then fails as timeout', async () => {
    const j = await job('always-timeout', {}, { timeoutMs: 300, killGraceMs: 200 });
    j.env = { ...j.env, FAKE_ATTEMPTS_FILE: path.join(j.dir, 'attempts.txt') };
    const result = await runWithRetry(launcher, j, { ...noWait, maxRetries: 1 });
    expect(result.attempts.map((a) => a.outcome.status === 'failed' && a.outcome.timeout)).toEqual([
      'wall-clock',
      'wall-clock',
    ]);
    expect(result).toMatchObject({
      outcome: { status: 'failed', kind: 'timeout', timeout: 'wall-clock' },
      reason: 'gave up after 2 attempts (max_retries 1)',
    });
  });

  it('a crash is retried', async () => {
    const result = await runWithRetry(launcher, await job('crash'), { ...noWait, maxRetries: 1 });
    expect(result.attempts.map((a) => a.outcome.status === 'failed' && a.outcome.kind)).toEqual(['crashed', 'crashed']);
  });
});
