import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { experiment } from './__fixtures__/helpers.js';
import type { JobEvent } from './job-events.js';
import type { Launcher, LaunchJob, LaunchOutcome, OutcomeKind } from './launcher.js';
import { checkRetryPolicy, decideRetry, RETRY_RULES } from './retry-policy.js';
import { runWithRetry } from './run-with-retry.js';

/** A custom launcher (plain object, through the API) that fails with the given kinds, then succeeds. */
function scripted(kinds: readonly OutcomeKind[]): Launcher & { jobs: LaunchJob[] } {
  const jobs: LaunchJob[] = [];
  return {
    name: 'scripted',
    jobs,
    async launch(job, options): Promise<LaunchOutcome> {
      jobs.push(job);
      options?.onEvent?.({ type: 'started', pid: 4242, command: ['scripted'] });
      const kind = kinds[jobs.length - 1];
      if (!kind) return { status: 'succeeded', rankFiles: [], exitCode: 0, durationMs: 1, command: ['scripted'] };
      return {
        status: 'failed',
        kind,
        message: `${kind}!`,
        exitCode: 1,
        signal: null,
        errors: [],
        durationMs: 1,
        command: ['scripted'],
      };
    },
  };
}

const base = (patch: Record<string, unknown> = {}): LaunchJob => ({
  experiment: experiment(patch),
  outputDir: '/nowhere/out',
  logFile: '/nowhere/log',
});

describe('runWithRetry backoff (fake timers)', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('waits backoff_base^(attempt-1) seconds before attempt 2, 3, 4: 2 s, 4 s, 8 s', async () => {
    const launcher = scripted(['transient', 'timeout', 'other']);
    const events: JobEvent[] = [];
    const pending = runWithRetry(
      launcher,
      base(),
      { maxRetries: 3, backoffBaseS: 2 },
      { onEvent: (e) => events.push(e) },
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(launcher.jobs).toHaveLength(1);
    for (const [wait, attempts] of [
      [2000, 2],
      [4000, 3],
      [8000, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(launcher.jobs).toHaveLength(attempts - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(launcher.jobs).toHaveLength(attempts);
    }
    const result = await pending;
    expect(result.outcome.status).toBe('succeeded');
    expect(result.attempts.map((a) => a.outputDir)).toEqual([1, 2, 3, 4].map((n) => `/nowhere/out/attempt-${n}`));
    expect(events.filter((e) => e.type === 'retrying')).toEqual([
      { type: 'retrying', jobId: 'fake', attempt: 2, delayMs: 2000, batchSize: 8, previousBatchSize: 8 },
      { type: 'retrying', jobId: 'fake', attempt: 3, delayMs: 4000, batchSize: 8, previousBatchSize: 8 },
      { type: 'retrying', jobId: 'fake', attempt: 4, delayMs: 8000, batchSize: 8, previousBatchSize: 8 },
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'started',
      'attempt-failed',
      'retrying',
      'started',
      'attempt-failed',
      'retrying',
      'started',
      'attempt-failed',
      'retrying',
      'started',
      'succeeded',
    ]);
  });

  it('base 3: 3 s then 9 s', async () => {
    const launcher = scripted(['other', 'other']);
    const delays: number[] = [];
    const pending = runWithRetry(
      launcher,
      base(),
      { maxRetries: 5, backoffBaseS: 3 },
      {
        onEvent: (e) => e.type === 'retrying' && delays.push(e.delayMs),
      },
    );
    await vi.advanceTimersByTimeAsync(2999);
    expect(launcher.jobs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1 + 8999);
    expect(launcher.jobs).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect((await pending).attempts).toHaveLength(3);
    expect(delays).toEqual([3000, 9000]);
  });

  it('gives up after max_retries more attempts', async () => {
    const launcher = scripted(['other', 'crashed', 'transient', 'other']);
    const events: JobEvent[] = [];
    const pending = runWithRetry(
      launcher,
      base(),
      { maxRetries: 2, backoffBaseS: 1 },
      { onEvent: (e) => events.push(e) },
    );
    await vi.runAllTimersAsync();
    const result = await pending;
    expect(launcher.jobs).toHaveLength(3);
    expect(result).toMatchObject({
      outcome: { status: 'failed', kind: 'transient' },
      reason: 'gave up after 3 attempts (max_retries 2)',
    });
    expect(
      events.filter((e) => e.type === 'attempt-failed').map((e) => e.type === 'attempt-failed' && e.willRetry),
    ).toEqual([true, true, false]);
    expect(events.at(-1)).toMatchObject({ type: 'failed', jobId: 'fake', attempts: 3 });
  });

  it.each(['bad_config', 'model_not_found', 'dataset', 'unsupported'] as const)(
    '%s fails at once, without retry',
    async (kind) => {
      const launcher = scripted([kind]);
      const events: JobEvent[] = [];
      const result = await runWithRetry(launcher, base(), { maxRetries: 5 }, { onEvent: (e) => events.push(e) });
      expect(launcher.jobs).toHaveLength(1);
      expect(result).toMatchObject({ outcome: { status: 'failed', kind }, reason: `${kind} is not retried` });
      expect(events.map((e) => e.type)).toEqual(['started', 'attempt-failed', 'failed']);
    },
  );

  it('OOM halves the batch size down to 1, then gives up', async () => {
    const launcher = scripted(['oom', 'oom', 'oom', 'oom', 'oom']);
    const pending = runWithRetry(launcher, base({ batch_size: 8 }), { maxRetries: 10, backoffBaseS: 0 });
    await vi.runAllTimersAsync();
    const result = await pending;
    expect(launcher.jobs.map((j) => j.experiment.batch_size)).toEqual([8, 4, 2, 1]);
    expect(result).toMatchObject({ reason: 'out of memory at batch size 1', experiment: { batch_size: 1 } });
  });

  it('OOM with halving off fails at once', async () => {
    const launcher = scripted(['oom']);
    const result = await runWithRetry(launcher, base({ batch_size: 8 }), { halveBatchOnOom: false });
    expect(launcher.jobs).toHaveLength(1);
    expect(result.reason).toBe('out of memory at batch size 8 (halving is off)');
  });

  it('an abort while waiting to retry ends the job interrupted, with no further attempt', async () => {
    const launcher = scripted(['transient']);
    const controller = new AbortController();
    const events: JobEvent[] = [];
    const pending = runWithRetry(
      launcher,
      base(),
      { backoffBaseS: 2 },
      { signal: controller.signal, onEvent: (e) => events.push(e) },
    );
    await vi.advanceTimersByTimeAsync(1000);
    controller.abort('SIGINT');
    const result = await pending;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(launcher.jobs).toHaveLength(1);
    expect(result.outcome).toEqual({
      status: 'interrupted',
      message: 'interrupted while waiting to retry',
      durationMs: 0,
      command: [],
    });
    expect(events.at(-1)).toMatchObject({ type: 'interrupted', attempts: 1 });
  });

  it('a launcher that throws is not retried: the error comes back', async () => {
    const launcher: Launcher & { calls: number } = {
      name: 'broken',
      calls: 0,
      async launch() {
        this.calls++;
        throw new Error('accelerate: command not found');
      },
    };
    await expect(runWithRetry(launcher, base())).rejects.toThrow('accelerate: command not found');
    expect(launcher.calls).toBe(1);
  });
});

describe('retry policy', () => {
  it('every outcome kind has a rule, and decideRetry follows it', () => {
    const exp = experiment({ batch_size: 6 });
    for (const [kind, rule] of Object.entries(RETRY_RULES)) {
      const outcome = {
        status: 'failed',
        kind,
        message: '',
        exitCode: 1,
        signal: null,
        errors: [],
        durationMs: 0,
        command: [],
      } as const;
      const d = decideRetry({ ...outcome, kind: kind as OutcomeKind, errors: [] }, exp, checkRetryPolicy({}));
      expect(d.retry).toBe(rule !== 'final');
      if (d.retry) expect(d.experiment.batch_size).toBe(rule === 'halve' ? 3 : 6);
    }
    expect(Object.keys(RETRY_RULES).sort()).toEqual([
      'bad_config',
      'crashed',
      'dataset',
      'gpu_control',
      'model_not_found',
      'oom',
      'other',
      'server_crashed',
      'server_error',
      'server_start_failed',
      'server_unreachable',
      'timeout',
      'transient',
      'unsupported',
    ]);
  });

  it.each([
    [{ maxRetries: -1 }, 'retry.maxRetries: expected an integer ≥ 0, got -1'],
    [{ maxRetries: 1.5 }, 'retry.maxRetries: expected an integer ≥ 0, got 1.5'],
    [{ backoffBaseS: Number.NaN }, 'retry.backoffBaseS: expected a finite number ≥ 0, got NaN'],
    [{ backoffBaseS: -2 }, 'retry.backoffBaseS: expected a finite number ≥ 0, got -2'],
  ])('rejects %o', (policy, message) => {
    expect(() => checkRetryPolicy(policy)).toThrow(expect.objectContaining({ message, code: 'BAD_RETRY_POLICY' }));
  });

  it('defaults: 3 retries, base 2 s, halving on', () => {
    expect(checkRetryPolicy(undefined)).toEqual({ maxRetries: 3, backoffBaseS: 2, halveBatchOnOom: true });
  });
});
