import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { workersOf } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// The real thing: examples/demo-suite.yaml (2 tiny models × 3 variations × 2 cycles = 12
// experiments) through the real bin, killed with SIGKILL mid-way, then run again.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const suiteFile = path.join(root, 'examples/demo-suite.yaml');

function runUntil(
  args: string[],
  finishedBeforeKill: number,
): Promise<{ finished: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let finished = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { type: string; status?: string };
      if (event.type === 'finished' && event.status === 'done' && ++finished === finishedBeforeKill)
        child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ finished, signal }));
  });
}

describe('joules suite, killed and resumed (slow)', () => {
  it('ends with exactly 12 rows and 12 raw results folders', { timeout: 900_000 }, async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), 'joules-suite-e2e-'));
    const args = ['suite', suiteFile, '--results-dir', results, '--max-parallel', '2', '--json'];

    const first = await runUntil(args, 4);
    expect(first.signal).toBe('SIGKILL');
    expect(first.finished).toBe(4);

    // The killed run's workers notice their launcher is gone and exit (no orphan on the "GPU").
    const journal = (await readFile(path.join(results, '.joules', 'progress.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const owners = [
      ...new Set(
        journal.map((e: { owner?: { pid: number } }) => e.owner?.pid).filter((p): p is number => typeof p === 'number'),
      ),
    ];
    expect(owners).toHaveLength(1);
    const deadline = Date.now() + 15_000;
    while ((await workersOf(owners[0]!)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await workersOf(owners[0]!)).toEqual([]);

    const output = captureOutput();
    const code = await runMain(args, output);
    expect(code, output.stderr.join('\n')).toBe(0);
    const events = output.stdout.map((l) => JSON.parse(l));
    const planned = events.find((e) => e.type === 'planned');
    expect(planned.total).toBe(12);
    expect(planned.skipped).toBeGreaterThanOrEqual(4);
    expect(events.at(-1)).toMatchObject({ type: 'summary', failed: 0, interrupted: 0 });

    const rows = parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(12);
    expect(new Set(rows.map((r) => `${r.model_name}|${r.config_name}|${r.cycle_id}`)).size).toBe(12);
    expect(new Set(rows.map((r) => r.experiment_id)).size).toBe(12);
    const folders = (await readdir(path.join(results, 'raw_results'))).filter((n) => /^\d+$/.test(n));
    expect(folders.sort()).toEqual(rows.map((r) => r.experiment_id).sort());

    // Running it a third time has nothing left to do.
    const again = captureOutput();
    expect(await runMain(args, again)).toBe(0);
    expect(JSON.parse(again.stdout[0]!)).toMatchObject({ type: 'planned', toRun: 0, skipped: 12 });
  });
});
