import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { workersOf } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// SIGKILL while a worker session holds a model (the 3rd experiment of the first session runs),
// then the same command again: every key exactly once, no worker left behind.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const suiteFile = fileURLToPath(new URL('./__fixtures__/reuse-kill.yaml', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function runUntil(
  args: string[],
  finishedBeforeKill: number,
): Promise<{ finished: number; signal: NodeJS.Signals | null; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let finished = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { type: string; status?: string };
      if (event.type === 'finished' && event.status === 'done' && ++finished === finishedBeforeKill)
        child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ finished, signal, pid: child.pid! }));
  });
}

describe('joules suite --reuse-model, killed mid-session and resumed (slow)', () => {
  it('ends with every key exactly once and no orphan worker', { timeout: 600_000 }, async () => {
    const results = await mkdtemp(path.join(os.tmpdir(), 'joules-reuse-kill-'));
    dirs.push(results);
    const args = ['suite', suiteFile, '--results-dir', results, '--reuse-model', '--json'];
    const first = await runUntil(args, 2);
    expect(first.signal).toBe('SIGKILL');
    expect(first.finished).toBe(2);
    // The session's worker (it held the model for the 3rd experiment) notices its launcher is gone.
    const deadline = Date.now() + 20_000;
    while ((await workersOf(first.pid)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await workersOf(first.pid)).toEqual([]);

    const output = captureOutput();
    const code = await runMain(args, output);
    expect(code, output.stderr.join('\n')).toBe(0);
    const events = output.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'planned')).toMatchObject({ total: 6, skipped: 2, toRun: 4 });
    expect(events.at(-1)).toMatchObject({ type: 'summary', done: 4, failed: 0, interrupted: 0 });

    const rows = parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => `${r.model_name}|${r.config_name}|${r.cycle_id}`)).size).toBe(6);
    const folders = (await readdir(path.join(results, 'raw_results'))).filter((n) => /^\d+$/.test(n));
    expect(folders.sort()).toEqual(rows.map((r) => r.experiment_id).sort());
  });
});
