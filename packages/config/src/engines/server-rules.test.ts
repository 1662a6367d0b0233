import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../parse.js';
import { resolveExperimentPaths } from '../paths.js';

const serving = {
  config_name: 'serve',
  model_name: './m',
  engine: 'server',
  server: { command: ['transformers', 'serve', '{model}', '--port', '{port}'] },
  load: { pattern: 'closed_loop', concurrency: 2, num_requests: 8 },
};
const patch = (p: Record<string, unknown>) => ({ ...serving, ...p });
const errorsOf = (input: unknown) => parseExperiment(input).errors;

describe('serving engine config', () => {
  it('accepts a closed-loop server experiment and fills the serving defaults', () => {
    const r = parseExperiment(serving);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config?.server).toMatchObject({ api: 'completions', url: null, host: '127.0.0.1', extra_body: {} });
    expect(r.config?.load).toMatchObject({ rate: null, warmup_requests: 2, max_tokens: null });
    expect(r.config?.slo).toEqual({ ttft_ms: null, tpot_ms: null });
  });

  it('transformers stays the default engine, and serving keys set with it are warned about', () => {
    const r = parseExperiment({
      config_name: 'x',
      model_name: 'org/m',
      load: { concurrency: 4 },
      slo: { ttft_ms: 100 },
    });
    expect(r.errors).toEqual([]);
    expect(r.config?.engine).toBe('transformers');
    expect(r.warnings.join('\n')).toMatch(/load: concurrency set but ignored: engine is "transformers"/);
    expect(r.warnings.join('\n')).toMatch(/slo: ttft_ms set but ignored/);
  });

  // Each row: a patch over the valid serving experiment, and the start of the one error it must give.
  it.each([
    [
      { load: { pattern: 'closed_loop', concurrency: 2, rate: 5, num_requests: 8 } },
      'load.rate: only valid with load.pattern "constant" or "poisson"',
    ],
    [
      { load: { pattern: 'closed_loop', num_requests: 8 } },
      'load.concurrency: required when load.pattern is "closed_loop"',
    ],
    [{ load: { pattern: 'poisson', num_requests: 8 } }, 'load.rate: required when load.pattern is "poisson"'],
    [
      { load: { pattern: 'poisson', rate: 3, concurrency: 2, num_requests: 8 } },
      'load.concurrency: only valid with load.pattern "closed_loop"',
    ],
    [
      { load: { pattern: 'bursty', burst_size: 4, num_requests: 8 } },
      'load.burst_interval_ms: required when load.pattern is "bursty"',
    ],
    [{ load: { pattern: 'trace' } }, 'load.trace_file: required when load.pattern is "trace"'],
    [{ load: { pattern: 'constant', rate: 2 } }, 'load.num_requests: set load.num_requests or load.duration_s'],
    [{ server: {} }, 'server.command: required when engine is "server"'],
    [{ server: { command: ['srv', '--port', '{port}'], url: 'http://h:1' } }, 'server.url: only one of server.command'],
    [{ server: { command: ['srv', '--port', '8000'] } }, 'server.command: must contain "{port}"'],
    [{ server: { url: 'localhost:8000' } }, 'server.url: expected an http(s) URL'],
    [{ num_processes: 2, gpu_ids: [0, 1] }, 'num_processes: must be 1 with engine "server"'],
    [{ load: { pattern: 'closed_loop', concurrency: 0, num_requests: 8 } }, 'load.concurrency:'],
    [{ engine: 'vllm' }, 'engine:'],
    [{ launch: { launcher: 'slurm', slurm: { nodes: 2 } } }, 'launch.slurm.nodes: must be 1 with engine "server"'],
    [
      { server: { command: ['srv', '--port', '{port}'], env: { CUDA_VISIBLE_DEVICES: '1' } } },
      'server.env.CUDA_VISIBLE_DEVICES: set from gpu_ids',
    ],
    [
      { server: { command: ['srv', '--port', '{port}'], env: { N: 1 } } },
      'server.env.N: Invalid input: expected string',
    ],
    [
      { server: { command: ['srv', '--port', '{port}'], dialect: 'openai' }, min_output_tokens: 4 },
      'min_output_tokens: OpenAI\'s API has no min_tokens: server.dialect "openai" cannot send it',
    ],
    [
      {
        server: { command: ['srv', '--port', '{port}'], dialect: 'openai' },
        decoding: { mode: 'sampling', top_k: 50 },
      },
      "decoding.top_k: OpenAI's API has no top_k",
    ],
    [
      { load: { pattern: 'closed_loop', concurrency: 2, num_requests: 8, max_error_share: 1.5 } },
      'load.max_error_share:',
    ],
  ])('rejects %j', (p, message) => {
    const errors = errorsOf(patch(p));
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  it('runs on Slurm on one node, and a server on more GPUs than worker processes is not warned about', () => {
    const r = parseExperiment(
      patch({ gpu_ids: [0, 1], launch: { launcher: 'slurm', slurm: { nodes: 1, gpus_per_node: 2 } } }),
    );
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('server.env: strings for a started server, {} by default; ignored (warned) with an attached one', () => {
    const env = { VLLM_TARGET_DEVICE: 'cpu', VLLM_CPU_KVCACHE_SPACE: '1' };
    expect(parseExperiment(serving).config?.server.env).toEqual({});
    const started = parseExperiment(patch({ server: { ...serving.server, env } }));
    expect(started.errors).toEqual([]);
    expect(started.warnings).toEqual([]);
    expect(started.config?.server.env).toEqual(env);
    const attached = parseExperiment(patch({ server: { url: 'http://127.0.0.1:8000', devices: [], env } }));
    expect(attached.errors).toEqual([]);
    expect(attached.warnings).toEqual([expect.stringMatching(/^server.env: ignored with server.url/)]);
  });

  it('an attached server without devices is valid but warned: no energy', () => {
    const r = parseExperiment(patch({ server: { url: 'http://127.0.0.1:8000' } }));
    expect(r.errors).toEqual([]);
    expect(r.warnings.join('\n')).toMatch(/server.devices: not set: .* reports no energy/);
  });

  it('resolves load.trace_file against the config folder', () => {
    const r = parseExperiment(patch({ load: { pattern: 'trace', trace_file: 'traces/a.jsonl' } }));
    expect(r.errors).toEqual([]);
    const resolved = resolveExperimentPaths(r.config!, '/cfg');
    expect(resolved.load.trace_file).toBe(path.resolve('/cfg', 'traces/a.jsonl'));
  });
});
