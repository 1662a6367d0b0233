import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { RunConfigError } from '../errors.js';
import type { RunnerEvent } from '../events.js';
import { runSuite } from './run-suite.js';

// runSuite as a library, no CLI: the real worker (python launcher, tiny model), real files.
const fixture = (name: string) => fileURLToPath(new URL(`../__fixtures__/${name}`, import.meta.url));
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'joules-runner-'));
  dirs.push(d);
  return d;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('runSuite (slow)', () => {
  it('runs a 2-experiment suite, reports typed events, records 2 rows; run again it skips both', {
    timeout: 240_000,
  }, async () => {
    const resultsDir = await tmp();
    const events: RunnerEvent[] = [];
    const outcome = await runSuite({ suite: fixture('two-configs.yaml'), resultsDir, onEvent: (e) => events.push(e) });
    expect(outcome).toMatchObject({ suite: 'runner-two', total: 2, done: 2, failed: 0, skipped: 0, interrupted: 0 });
    expect(outcome.experiments.map((e) => e.status)).toEqual(['done', 'done']);

    const types = events.map((e) => e.type);
    expect(types[0]).toBe('suite-planned');
    expect(types.at(-1)).toBe('suite-finished');
    const finished = events.filter((e) => e.type === 'experiment-finished');
    expect(finished.map((e) => e.key).sort()).toEqual(outcome.experiments.map((e) => e.key).sort());
    // Per experiment: started before its stages, stages before finished.
    for (const f of finished) {
      const mine = events.filter((e) => 'key' in e && e.key === f.key).map((e) => e.type);
      expect(mine[0]).toBe('experiment-started');
      expect(mine).toContain('experiment-attempt');
      expect(mine).toContain('experiment-stage');
      expect(mine.at(-1)).toBe('experiment-finished');
    }
    const attempt = events.find((e) => e.type === 'experiment-attempt');
    expect(attempt).toMatchObject({ attempt: 1, gpuIds: [] });

    const rows = parse(await readFile(path.join(resultsDir, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows.map((r) => r.config_name).sort()).toEqual(['batch-2', 'batch-4']);
    expect(rows.every((r) => r.total_output_tokens === '16')).toBe(true);
    const folders = (await readdir(path.join(resultsDir, 'raw_results'))).filter((n) => /^\d+$/.test(n));
    expect(folders.sort()).toEqual(rows.map((r) => r.experiment_id).sort());
    // `auto` ran the single process through plain python, and recorded that.
    const setup = JSON.parse(
      await readFile(
        path.join(resultsDir, 'raw_results', folders[0]!, `${folders[0]}_1_experiment_setup.json`),
        'utf8',
      ),
    );
    expect(JSON.stringify(setup)).toContain('"python"');

    const again: RunnerEvent[] = [];
    const second = await runSuite({ suite: fixture('two-configs.yaml'), resultsDir, onEvent: (e) => again.push(e) });
    expect(second).toMatchObject({ total: 2, done: 0, skipped: 2, failed: 0 });
    expect(again.find((e) => e.type === 'suite-planned')).toMatchObject({ toRun: 0, skipped: 2 });
  });

  it('rejects a bad suite with every problem named, before anything runs or is written', async () => {
    const resultsDir = path.join(await tmp(), 'results');
    const error = await runSuite({ suite: fixture('two-configs.yaml'), resultsDir, set: ['batch_size=zero'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunConfigError);
    expect((error as RunConfigError).errors.join('\n')).toMatch(/batch_size/);
    await expect(readdir(resultsDir)).rejects.toThrow(/ENOENT/);
  });
});
