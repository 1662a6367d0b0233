import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash } from './config-hash.js';
import { parseExperiment } from './parse.js';
import { rebaseExperimentData, resolveExperimentPaths } from './paths.js';

const parse = (patch: Record<string, unknown>) => parseExperiment({ config_name: 'c', model_name: 'm', ...patch });
const errors = (patch: Record<string, unknown>) => parse(patch).errors;
const served = (load: Record<string, unknown>, server: Record<string, unknown> = {}) => ({
  engine: 'server',
  server: { url: 'http://127.0.0.1:8000', devices: [], api: 'chat', ...server },
  load: { concurrency: 2, ...load },
});

describe('lengths', () => {
  it('takes each named distribution, seeded, and leaves the hash of a config without it unchanged', () => {
    for (const input of [
      { distribution: 'fixed', value: 64 },
      { distribution: 'uniform', mean: 64, range_ratio: 0.5 },
      { distribution: 'normal', mean: 64, std: 8, max: 100 },
      { distribution: 'lognormal', mean: 64, std: 30, max: 128 },
      { distribution: 'histogram', file: 'h.csv' },
    ]) {
      expect(errors({ lengths: { input } }), JSON.stringify(input)).toEqual([]);
    }
    const plain = parse({}).config!;
    const same = parse({ lengths: { enforce: 'auto' } }).config!;
    expect(configHash(same)).toBe(configHash(plain));
    expect(configHash(parse({ lengths: { seed: 3 } }).config!)).not.toBe(configHash(plain));
  });

  it.each([
    [{ input: { distribution: 'uniform', mean: 64, range_ratio: 1.5 } }, 'lengths.input.range_ratio:'],
    [{ input: { distribution: 'normal', mean: 64, std: -1 } }, 'lengths.input.std:'],
    [{ input: { distribution: 'lognormal', mean: 0, std: 1 } }, 'lengths.input.mean:'],
    [{ input: { distribution: 'zipf', mean: 3 } }, 'lengths.input.distribution:'],
    [
      { input: { distribution: 'normal', mean: 64, std: 1, min: 90, max: 80 } },
      'lengths.input.min: 90 is above max 80',
    ],
    [
      { input: { distribution: 'uniform', mean: 100, range_ratio: 0.5 } },
      'lengths.input: draws reach 150 tokens, above max_input_tokens 128',
    ],
    [
      { output: { distribution: 'fixed', value: 64 } },
      'lengths.output: draws reach 64 tokens, above max_output_tokens 32',
    ],
    [
      { output: { distribution: 'fixed', value: 8 } },
      'lengths.output: engine "transformers" generates a batch to one length',
    ],
  ])('%j is refused, naming the field', (lengths, message) => {
    expect(errors({ lengths }).join('\n')).toContain(message);
  });

  it('takes answer lengths from a conversation dataset only', () => {
    const output = { distribution: 'dataset' };
    expect(errors({ batch_size: 1, lengths: { output }, dataset: { format: 'prompts' } }).join('\n')).toContain(
      'lengths.output.distribution: "dataset" takes each answer\'s length from a conversation dataset',
    );
    expect(errors({ batch_size: 1, lengths: { output }, dataset: { format: 'sharegpt' } })).toEqual([]);
  });

  it('resolves a histogram file against the config file', () => {
    const c = parse({ lengths: { input: { distribution: 'histogram', file: 'h.csv' } } }).config!;
    expect(resolveExperimentPaths(c, '/cfg').lengths.input).toMatchObject({ file: path.resolve('/cfg', 'h.csv') });
  });

  it('resolves a think-time histogram against the config file, and rebases it', () => {
    const think_time_s = { distribution: 'histogram', file: 'think.csv' };
    const c = parse(served({ sessions: { count: 2, turns: 2, think_time_s } })).config!;
    expect(resolveExperimentPaths(c, '/cfg').load.sessions?.think_time_s).toMatchObject({
      file: path.resolve('/cfg', 'think.csv'),
    });
    const moved = rebaseExperimentData({ load: { sessions: { think_time_s } } }, '/a/b', '/a');
    expect(moved).toEqual({ load: { sessions: { think_time_s: { ...think_time_s, file: './b/think.csv' } } } });
    expect(rebaseExperimentData({ model_name: 'm' }, '/a/b', '/a')).toEqual({ model_name: 'm' });
  });
});

describe('load.sessions and shared prefixes', () => {
  it('sessions run on the chat API and count sessions', () => {
    expect(errors(served({ sessions: { count: 4, turns: 3, think_time_s: 0.5 } }))).toEqual([]);
    expect(
      errors(served({ sessions: { count: 4, think_time_s: { distribution: 'uniform', mean: 1, range_ratio: 0.5 } } })),
    ).toEqual([]);
    const e = (load: Record<string, unknown>, server?: Record<string, unknown>) =>
      errors(served(load, server)).join('\n');
    expect(e({ sessions: { count: 4 } }, { api: 'completions' })).toContain('load.sessions: needs server.api "chat"');
    expect(e({ sessions: { count: 4 }, num_requests: 8 })).toContain('load.num_requests: counts single requests');
    expect(e({ sessions: {} })).toContain('load.sessions.count: set load.sessions.count or load.duration_s');
    expect(e({ sessions: { count: 2, think_time_s: -1 } })).toContain('load.sessions.think_time_s');
    expect(e({ pattern: 'trace', concurrency: null, trace_file: 't.jsonl', sessions: { count: 2 } })).toContain(
      'load.sessions: not with load.pattern "trace"',
    );
  });

  it('a prefix workload longer than max_input_tokens is refused', () => {
    const e = (patch: Record<string, unknown>) => errors(patch).join('\n');
    expect(e({ ...served({ num_requests: 4, shared_prefix_tokens: 128 }) })).toContain(
      'load.shared_prefix_tokens: 128 tokens of prefix + a suffix is longer than max_input_tokens 128',
    );
    expect(
      e({
        ...served({ num_requests: 4, shared_prefix_tokens: 64, shared_prefix_count: 4 }),
        lengths: { input: { distribution: 'fixed', value: 80 } },
      }),
    ).toContain('load.shared_prefix_tokens: 64 tokens of prefix + suffixes up to 80 tokens (lengths.input)');
    expect(e({ ...served({ num_requests: 4, shared_prefix_count: 4 }) })).toContain(
      'load.shared_prefix_count: needs load.shared_prefix_tokens',
    );
    expect(errors({ ...served({ num_requests: 4, shared_prefix_tokens: 64, shared_prefix_count: 4 }) })).toEqual([]);
  });

  it('trace_format names the layouts it reads', () => {
    const e = errors(served({ pattern: 'trace', concurrency: null, trace_file: 't.csv', trace_format: 'sharegpt' }));
    expect(e.join('\n')).toContain('load.trace_format:');
  });
});

describe('lengths beside other keys', () => {
  it('refuses dataset answer lengths for synthetic prompts, and load.max_tokens beside drawn answers', () => {
    const e = (patch: Record<string, unknown>) => errors(patch).join('\n');
    expect(
      e({
        batch_size: 1,
        lengths: { input: { distribution: 'fixed', value: 8 }, output: { distribution: 'dataset' } },
      }),
    ).toContain('lengths.output.distribution: "dataset" takes each answer\'s length from the dataset\'s answers');
    expect(
      e({ ...served({ num_requests: 4, max_tokens: 8 }), lengths: { output: { distribution: 'fixed', value: 8 } } }),
    ).toContain('load.max_tokens: not with lengths.output');
  });

  it("a uniform's top is the lower of its max and mean × (1 + range_ratio)", () => {
    const input = { distribution: 'uniform', mean: 64, range_ratio: 0.5, max: 1000 };
    expect(errors({ max_input_tokens: 100, lengths: { input } })).toEqual([]);
  });
});
