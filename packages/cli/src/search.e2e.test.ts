import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// A search suite through the real bin on the tiny model (transformers, energy backend none):
// batch_size (bisected) × precision (enumerated) under an SLO. The SLO is on flops_total, which
// grows with batch size through padding and, unlike latency on a shared CPU, is the same on every
// run: it lets batch 16 fail and batch 8 pass every time, so the chosen point is decided by the
// landscape and not by noise. The objective is total_time_s (it falls with batch size).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const model = path.join(root, '.joules/models/tiny-llama');

const suiteYaml = `name: search-e2e
models: [${model}]
base: { num_input_prompts: 32, max_output_tokens: 4, min_output_tokens: 4, energy: { backend: none } }
search:
  objective: total_time_s
  constraints: ["flops_total <= 520000000"]
  axes:
    precision: [fp32, bf16]
    batch_size: [1, 2, 4, 8, 16]
  bisect: batch_size
  seed: 11
`;

/** Run the bin with --json; SIGKILL it once `killAfter` experiments are done. */
function runUntil(args: string[], killAfter: number): Promise<{ finished: number; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let finished = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { type: string; status?: string };
      if (event.type === 'finished' && event.status === 'done' && ++finished === killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ finished, signal }));
  });
}

const point = (precision: string, b: number) => `tiny-llama::precision-${precision}__batch_size-${b}`;

describe('joules suite: a search (slow)', () => {
  it('killed with SIGKILL and run again: continues, runs no point twice, picks what the full grid picks with fewer experiments', {
    timeout: 900_000,
  }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-search-e2e-'));
    const file = path.join(dir, 'search.yaml');
    await writeFile(file, suiteYaml);
    const results = path.join(dir, 'results');
    const args = ['suite', file, '--results-dir', results, '--json'];

    const first = await runUntil(args, 3);
    expect(first.signal).toBe('SIGKILL');

    const output = captureOutput();
    expect(await runMain(args, output), output.stderr.join('\n')).toBe(0);
    const events = output.stdout.map((l) => JSON.parse(l));
    const search = events.find((e) => e.type === 'search-result').result;

    // Bisection per precision over 5 batch sizes: 4 (meets), 8 (meets), 16 (fails the SLO); 1 and 2 pruned.
    const expected = ['fp32', 'bf16'].flatMap((p) => [4, 8, 16].map((b) => point(p, b))).sort();
    expect(search.measured.map((m: { id: string }) => m.id).sort()).toEqual(expected);
    expect(search.experiments).toEqual({ search: 6, grid: 10 });
    expect(search.pruned.map((p: { id: string; reason: string }) => `${p.id}:${p.reason}`).sort()).toEqual(
      ['fp32', 'bf16'].flatMap((p) => [`${point(p, 1)}:dominated`, `${point(p, 2)}:dominated`]).sort(),
    );
    const chosen = search.chosen;
    expect(chosen.met).toBe(true);
    expect(chosen.factors.batch_size).not.toBe(16);
    expect(chosen.figures.total_time_s).toMatchObject({ n: 1 });

    // Every experiment once: one CSV row per key, as many as the search ran, killed run included.
    const csv = path.join(results, 'text_generation_results.csv');
    const rows = parse(await readFile(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.config_name)).size).toBe(6);
    // The log holds each decision once (the rerun derived the same ones and did not append them again).
    const log = (await readFile(path.join(results, '.joules/search/search-e2e.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const proposed = log.filter((e) => e.type === 'proposed').map((e) => e.point);
    expect([...proposed].sort()).toEqual(expected);
    expect(log.filter((e) => e.type === 'verdict')).toHaveLength(6);
    const written = JSON.parse(await readFile(path.join(results, 'search_result.json'), 'utf8'));
    expect(written.chosen.id).toBe(chosen.id);

    // The full grid over the same values, in the same folder: the 6 measured points are done (same
    // keys), the other 4 run; its exhaustive choice is the search's.
    const grid = captureOutput();
    const gridArgs = [...args, '--set', 'search.strategy=grid', '--set', 'search.bisect=null'];
    expect(await runMain(gridArgs, grid), grid.stderr.join('\n')).toBe(0);
    const gridResult = grid.stdout.map((l) => JSON.parse(l)).find((e) => e.type === 'search-result').result;
    expect(gridResult.experiments).toEqual({ search: 10, grid: 10 });
    expect(gridResult.chosen.id).toBe(chosen.id);
    const all = parse(await readFile(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(all).toHaveLength(10);
  });
});
