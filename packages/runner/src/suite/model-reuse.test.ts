import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../events.js';
import { runSuite } from './run-suite.js';

// Model reuse with the real worker in session mode (python launcher, tiny model on CPU).
const fixture = (name: string) => fileURLToPath(new URL(`../__fixtures__/${name}`, import.meta.url));
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'joules-reuse-'));
  dirs.push(d);
  return d;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
afterEach(() => {
  delete process.env.JOULES_WORKER_FAULT;
});

type Row = Record<string, string>;
const rowsOf = async (dir: string) =>
  parse(await readFile(path.join(dir, 'text_generation_results.csv'), 'utf8'), { columns: true }) as Row[];
const textsOf = async (dir: string, id: string) =>
  JSON.parse(await readFile(path.join(dir, 'raw_results', id, `${id}_8_text_output.json`), 'utf8')).outputs;

describe('model reuse (slow)', () => {
  it('a reused session gives the same tokens, texts and FLOPs as fresh runs, loading the model once', {
    timeout: 300_000,
  }, async () => {
    const fresh = await tmp();
    const reused = await tmp();
    const a = await runSuite({ suite: fixture('reuse-greedy.yaml'), resultsDir: fresh });
    const events: RunnerEvent[] = [];
    const b = await runSuite({
      suite: fixture('reuse-greedy.yaml'),
      resultsDir: reused,
      reuseModel: true,
      onEvent: (e) => events.push(e),
    });
    expect([a.done, b.done]).toEqual([3, 3]);
    expect(a.experiments.map((e) => e.modelReused)).toEqual([false, false, false]);
    expect(b.experiments.map((e) => e.modelReused)).toEqual([false, true, true]);
    expect(events.filter((e) => e.type === 'session-started')).toHaveLength(1);
    expect(events.find((e) => e.type === 'session-ended')).toMatchObject({ reason: 'done', experiments: 3 });

    const byConfig = (rows: Row[]) => new Map(rows.map((r) => [r.config_name, r]));
    const rowsA = byConfig(await rowsOf(fresh));
    const rowsB = byConfig(await rowsOf(reused));
    // Each row records whether its model was reused and how long it spent loading one.
    const inOrder = b.experiments.map((e) => [...rowsB.values()].find((r) => r.experiment_id === e.experimentId)!);
    expect(inOrder.map((r) => r.model_reused)).toEqual(['false', 'true', 'true']);
    expect(Number(inOrder[0]!.model_load_s)).toBeGreaterThan(0);
    expect(inOrder.slice(1).map((r) => Number(r.model_load_s))).toEqual([0, 0]);
    expect([...rowsA.values()].every((r) => r.model_reused === 'false' && Number(r.model_load_s) > 0)).toBe(true);
    for (const config of ['batch-1', 'batch-2', 'batch-4']) {
      const [x, y] = [rowsA.get(config)!, rowsB.get(config)!];
      expect(y.total_output_tokens, config).toBe(x.total_output_tokens);
      expect(y.total_input_tokens, config).toBe(x.total_input_tokens);
      expect(y.flops_total, config).toBe(x.flops_total);
      expect(Number(y.flops_total)).toBeGreaterThan(0);
      expect(await textsOf(reused, y.experiment_id!), config).toEqual(await textsOf(fresh, x.experiment_id!));
    }
  });

  it('an OOM in the 3rd experiment of a session retries in a fresh session with the batch halved; the rest reuses again', {
    timeout: 300_000,
  }, async () => {
    process.env.JOULES_WORKER_FAULT = 'oom_above_batch:2';
    const dir = await tmp();
    const events: RunnerEvent[] = [];
    const outcome = await runSuite({
      suite: fixture('reuse-oom.yaml'),
      resultsDir: dir,
      onEvent: (e) => events.push(e),
    });
    expect(outcome).toMatchObject({ done: 5, failed: 0 });
    const keyOf = (name: string) => outcome.experiments.find((e) => e.key.includes(`::${name}::`))!.key;
    const finished = new Map(events.flatMap((e) => (e.type === 'experiment-finished' ? [[e.key, e] as const] : [])));
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => finished.get(keyOf(n))!.modelReused)).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
    expect(finished.get(keyOf('c'))).toMatchObject({ batchSize: 2, plannedBatchSize: 4 });

    const failedAttempt = events.find((e) => e.type === 'experiment-attempt-failed');
    expect(failedAttempt).toMatchObject({ key: keyOf('c'), attempt: 1, kind: 'oom', willRetry: true });
    expect(events.find((e) => e.type === 'experiment-retrying')).toMatchObject({
      key: keyOf('c'),
      batchSize: 2,
      previousBatchSize: 4,
    });
    const sessions = events
      .filter((e) => e.type === 'session-started' || e.type === 'session-ended')
      .map((e) => `${e.type}:${e.sessionId}${'reason' in e ? `:${e.reason}:${e.experiments}` : ''}`);
    expect(sessions).toEqual([
      'session-started:session-1',
      'session-ended:session-1:failed:3',
      'session-started:session-2',
      'session-ended:session-2:done:3',
    ]);
    const failures = parse(await readFile(path.join(dir, 'failed_experiments.csv'), 'utf8'), {
      columns: true,
    }) as Row[];
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'oom', config_name: 'c' });
  });
});
