import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stillAlive } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// Engine "server" against a REAL `transformers serve` (the tiny model on CPU): the suite sweep of
// examples/serving-suite.yaml, Ctrl-C during load, SIGKILL of a suite then its resume.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const model = path.join(root, '.joules/models/tiny-llama');
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'joules-serving-'));
  dirs.push(d);
  return d;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

type Row = Record<string, string>;
const rowsOf = async (dir: string) =>
  parse(await readFile(path.join(dir, 'text_generation_results.csv'), 'utf8'), { columns: true }) as Row[];
/** Pids of the uvicorn servers that the server logs of a results folder name ("Started server process [N]"). */
async function serverPids(results: string): Promise<number[]> {
  const logs = (await readdir(path.join(results, 'logs')).catch(() => [] as string[])).filter((n) =>
    n.endsWith('-server.log'),
  );
  const pids: number[] = [];
  for (const n of logs) {
    const text = await readFile(path.join(results, 'logs', n), 'utf8');
    for (const m of text.matchAll(/Started server process \[(\d+)\]/g)) pids.push(Number(m[1]));
  }
  return pids;
}
const allGone = async (pids: number[], ms: number) => (await stillAlive(pids, ms)).length === 0;
const COMMAND = `[transformers, serve, "{model}", --device, cpu, --host, "{host}", --port, "{port}", --continuous-batching, --cb-num-blocks, "128", --cb-block-size, "32", --cb-max-batch-tokens, "512"]`;

describe('engine server with a real transformers serve (slow)', () => {
  it('examples/serving-suite.yaml: 8 experiments on one server, a requests line per request, more tokens/s at concurrency 4 than 1', {
    timeout: 900_000,
  }, async () => {
    const results = await tmp();
    const code = await runMain(
      ['suite', path.join(root, 'examples/serving-suite.yaml'), '--results-dir', results],
      captureOutput(),
    );
    expect(code).toBe(0);
    const rows = await rowsOf(results);
    expect(rows).toHaveLength(8);
    const started = await serverPids(results);
    expect(started).toHaveLength(1); // consecutive experiments with equal server settings share it
    expect(await allGone(started, 5000)).toBe(true);
    for (const r of rows) {
      const id = r.experiment_id!;
      const lines = (await readFile(path.join(results, 'raw_results', id, `${id}_9_requests.jsonl`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(16);
      expect(lines.every((l) => l.error === null && l.output_tokens > 0)).toBe(true);
      const s = JSON.parse(await readFile(path.join(results, 'raw_results', id, `${id}_9_serving.json`), 'utf8'));
      expect(s.steady_window.start_unix_s).toBeGreaterThanOrEqual(s.whole_window.start_unix_s);
      expect(s.steady_window.end_unix_s).toBeLessThanOrEqual(s.whole_window.end_unix_s);
      expect(r.engine).toBe('server');
      expect(Number(r.serving_requests)).toBe(16);
    }
    const tps = (c: number) => {
      const v = rows.filter((r) => r.load_concurrency === String(c)).map((r) => Number(r.serving_output_tokens_per_s));
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    expect(tps(4)).toBeGreaterThan(tps(1));
  });

  it('Ctrl-C during the load: exit 130, and no server process is left after 5 s', { timeout: 300_000 }, async () => {
    const results = await tmp();
    const config = path.join(results, 'long.yaml');
    await writeFile(
      config,
      `config_name: long\nmodel_name: ${model}\nengine: server\nserver: { command: ${COMMAND}, ready_timeout_s: 120 }\nload: { pattern: closed_loop, concurrency: 2, duration_s: 300, warmup_requests: 1, prompt_reuse: true }\nnum_input_prompts: 8\nmax_output_tokens: 16\nenergy: { backend: none }\nlaunch: { launcher: python }\n`,
    );
    const child = spawn(process.execPath, [bin, 'run', config, '--results-dir', results], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const log = path.join(results, 'logs', '000001-server.log');
    // Wait until measured requests flow (after the warm-up one).
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if ((text.match(/POST \/v1\/completions/g) ?? []).length >= 4) break;
      await sleep(200);
    }
    const pids = await serverPids(results);
    expect(pids).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await allGone(pids, 5000)).toBe(true);
  });

  it('SIGKILL of the suite: the server goes too; the rerun resumes with exactly one row per key', {
    timeout: 600_000,
  }, async () => {
    const results = await tmp();
    const suite = path.join(results, 'sweep.yaml');
    await writeFile(
      suite,
      `name: sweep\ncycles: 2\nmodels: [${model}]\nbase:\n  engine: server\n  server: { command: ${COMMAND}, ready_timeout_s: 120 }\n  load: { pattern: closed_loop, num_requests: 16, warmup_requests: 1 }\n  num_input_prompts: 17\n  max_output_tokens: 8\n  energy: { backend: none }\n  launch: { launcher: python }\ngrid:\n  load.concurrency: [1, 2]\n`,
    );
    const child = spawn(process.execPath, [bin, 'suite', suite, '--results-dir', results, '--json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    let done = 0;
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (/"type":"finished"/.test(line) && /"status":"done"/.test(line) && ++done === 1) child.kill('SIGKILL');
      }
    });
    expect(await exited).toBe('SIGKILL');
    const first = await serverPids(results);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(await allGone(first, 10_000)).toBe(true); // the guard saw joules die
    const code = await runMain(['suite', suite, '--results-dir', results], captureOutput());
    expect(code).toBe(0);
    const rows = await rowsOf(results);
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((r) => `${r.config_name}|${r.cycle_id}`)).size).toBe(4);
    expect(await allGone(await serverPids(results), 5000)).toBe(true);
  });
});
