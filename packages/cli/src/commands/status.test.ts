import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuiteFile } from '@joules/config';
import { searchSignature } from '@joules/runner';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../output.js';
import { status } from './status.js';

const model = fileURLToPath(new URL('../../../../.joules/models/tiny-llama', import.meta.url));
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('joules status on a search suite', () => {
  it('counts the proposed points as work, the pruned ones apart; nothing the search will never run is pending', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-status-'));
    dirs.push(dir);
    const file = path.join(dir, 'search.yaml');
    await writeFile(
      file,
      `name: s\ncycles: 2\nmodels: [${model}]\nbase: { energy: { backend: none } }\nsearch:\n  objective: total_time_s\n  constraints: ["latency_p90_s <= 1"]\n  axes:\n    precision: [fp32, bf16]\n    batch_size: [1, 2, 4, 8, 16]\n  bisect: batch_size\n`,
    );
    const loaded = await loadSuiteFile(file, { resolvePaths: true, cwd: dir });
    const spec = loaded.result.config!.search!;
    const id = (precision: string, batch: number) => {
      const e = loaded.experiments.find(
        (x) => x.variation.factors.precision === precision && x.variation.factors.batch_size === batch,
      )!;
      return `${e.model}::${e.config_name}`;
    };
    // Step 1 proposed batch 4 of both precisions; fp32 failed the SLO (8 and 16 pruned), bf16 met it (1, 2 pruned).
    const log = [
      { type: 'proposed', point: id('fp32', 4), round: 1 },
      { type: 'proposed', point: id('bf16', 4), round: 1 },
      ...[8, 16].map((b) => ({ type: 'pruned', point: id('fp32', b), reason: 'slo', by: id('fp32', 4) })),
      ...[1, 2].map((b) => ({ type: 'pruned', point: id('bf16', b), reason: 'dominated', by: id('bf16', 4) })),
      { type: 'proposed', point: id('fp32', 2), round: 2 },
    ];
    const results = path.join(dir, 'results');
    await mkdir(path.join(results, '.joules', 'search'), { recursive: true });
    const signature = searchSignature(spec);
    await writeFile(
      path.join(results, '.joules', 'search', 's.jsonl'),
      log.map((e) => `${JSON.stringify({ ...e, signature, at: '2026-01-01T00:00:00Z' })}\n`).join(''),
    );

    const out = captureOutput();
    expect(await status({ suite: file, resultsDir: results, cwd: dir }, out)).toBe(0);
    const all = out.stdout
      .join('\n')
      .split('\n')
      .find((l) => /^\s*all\b/.test(l))!;
    // 3 proposed points × 2 cycles pending (none started), not the grid's 10 × 2.
    expect(all.trim().split(/\s+/).map(Number).slice(1)).toEqual([0, 0, 6, 0, 0, 0, 6]);
    expect(out.stdout.join('\n')).toContain(
      'search: 3 of 10 grid points proposed (counted above), 4 pruned (8 experiments never run), 3 not decided yet',
    );

    const json = captureOutput();
    expect(await status({ suite: file, resultsDir: results, cwd: dir, json: true }, json)).toBe(0);
    const parsed = JSON.parse(json.stdout.join(''));
    expect(parsed.total).toMatchObject({ total: 6, pending: 6 });
    expect(parsed.search).toEqual({
      points: { grid: 10, proposed: 3, pruned: 4, undecided: 3 },
      pruned_experiments: 8,
      finished: null,
    });

    // Once finished, nothing is undecided and the line names the chosen point.
    await writeFile(
      path.join(results, '.joules', 'search', 's.jsonl'),
      `${JSON.stringify({ type: 'finished', chosen: id('bf16', 4), experiments: 6, grid: 20, signature, at: 'x' })}\n`,
      { flag: 'a' },
    );
    const done = captureOutput();
    expect(await status({ suite: file, resultsDir: results, cwd: dir }, done)).toBe(0);
    expect(done.stdout.join('\n')).toContain(`finished: 6 experiments against the grid's 20, chosen ${id('bf16', 4)}`);
  });
});
