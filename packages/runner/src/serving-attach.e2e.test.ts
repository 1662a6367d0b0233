import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerHandle, startServer } from '@joules/launcher';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from './run-experiment.js';

// `server.url`: Joules attaches to a server it did not start (here a real `transformers serve` on
// the tiny model, started by the test), measures it, and leaves it running. Without
// `server.devices` there is no energy, and the row and the note say so.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = path.join(root, '.joules/models/tiny-llama');
const transformers = path.join(root, 'python/.venv/bin/transformers');

describe('engine server attached to a running server (slow)', () => {
  let dir: string;
  let server: ServerHandle;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'joules-serving-attach-'));
    server = await startServer({
      command: [
        ...[transformers, 'serve', '{model}', '--device', 'cpu', '--port', '{port}', '--continuous-batching'],
        ...['--cb-num-blocks', '128', '--cb-block-size', '32', '--cb-max-batch-tokens', '512'], // a small KV cache: a quick first request
      ],
      model,
      host: '127.0.0.1',
      gpuIds: [],
      logFile: path.join(dir, 'server.log'),
      readyTimeoutMs: 120_000,
    });
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('measures it, reports no energy without server.devices, and leaves it running', { timeout: 180_000 }, async () => {
    const config = path.join(dir, 'attach.yaml');
    await writeFile(
      config,
      `config_name: attach\nmodel_name: ${model}\nengine: server\nserver: { url: "${server.url}" }\nload: { pattern: closed_loop, concurrency: 2, num_requests: 6, warmup_requests: 1 }\nnum_input_prompts: 7\nmax_output_tokens: 4\nenergy: { backend: codecarbon }\nlaunch: { launcher: python }\n`,
    );
    const outcome = await runExperiment({ config, resultsDir: path.join(dir, 'results') });
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    const [row] = parse(await readFile(path.join(dir, 'results', 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(row).toMatchObject({ engine: 'server', serving_requests: '6', serving_errors: '0' });
    expect(Number(row!.serving_output_tokens_per_s)).toBeGreaterThan(0);
    expect([row!.energy_total_j, row!.serving_energy_per_token_j, row!.serving_steady_energy_method]).toEqual([
      '',
      '',
      '',
    ]);
    const rawDir = path.join(dir, 'results', 'raw_results', row!.experiment_id!);
    const raw = await Promise.all((await readdir(rawDir)).map((f) => readFile(path.join(rawDir, f), 'utf8')));
    expect(raw.join('\n')).toMatch(/no energy: server.devices is not set/);
    expect(server.alive()).toBe(true); // not Joules' to stop
  });
});
