import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHECKOUT_ROOT, FAULT_SERVER } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// Bad workload input (issue 23) exits 2, naming the field, the file and the line: what the config
// rules see before anything runs (a distribution out of range, sessions on the completions API, a
// prefix longer than max_input_tokens), and what only the worker can see (a dataset or trace file
// without the fields its layout needs). Nothing is recorded as a result.
const model = path.join(CHECKOUT_ROOT, '.joules/models/tiny-llama');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-workload-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const attached = [
  'engine: server',
  'server: { url: "http://127.0.0.1:9", devices: [] }',
  'launch: { launcher: python }',
  'energy: { backend: none }',
];

async function run(name: string, lines: string[]) {
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, [`config_name: ${name}`, `model_name: ${model}`, ...lines, ''].join('\n'));
  const results = path.join(dir, `${name}-results`);
  const output = captureOutput();
  const code = await runMain(['run', file, '--results-dir', results], output);
  return { code, file, stderr: output.stderr.join('\n'), results };
}

describe('bad workload input', () => {
  it.each([
    [
      'range',
      ['lengths:', '  input: { distribution: uniform, mean: 64, range_ratio: 1.5 }'],
      /range\.yaml:4 lengths\.input\.range_ratio: /,
    ],
    [
      'sessions-completions',
      [...attached, 'load: { concurrency: 2, sessions: { count: 2, turns: 3 } }'],
      /sessions-completions\.yaml:7 load\.sessions: needs server\.api "chat"/,
    ],
    [
      'prefix',
      [...attached, 'max_input_tokens: 64', 'load: { concurrency: 2, num_requests: 4, shared_prefix_tokens: 64 }'],
      /prefix\.yaml:8 load\.shared_prefix_tokens: 64 tokens of prefix \+ a suffix is longer than max_input_tokens 64/,
    ],
  ])('%s: the config rules name the field and its line, exit 2, nothing run', async (name, lines, message) => {
    const r = await run(name, lines);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(r.results)).toBe(false);
  });

  it('a conversation file without its fields: the worker names dataset.path, the file and the line; exit 2', {
    timeout: 120_000,
  }, async () => {
    const data = path.join(dir, 'chats.jsonl');
    await writeFile(
      data,
      [
        JSON.stringify({
          conversations: [
            { from: 'human', value: 'Hi there' },
            { from: 'gpt', value: 'Hello' },
          ],
        }),
        JSON.stringify({ conversations: [{ speaker: 'human', text: 'no from or value' }] }),
        '',
      ].join('\n'),
    );
    const r = await run('bad-sharegpt', [
      `dataset: { source: file, path: ${data}, format: sharegpt }`,
      'num_input_prompts: 2',
      'max_output_tokens: 2',
      'energy: { backend: none }',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/failed \(bad_config\)/);
    expect(r.stderr).toContain(`dataset.path: ${data}:2:`);
    expect(await readFile(path.join(r.results, 'text_generation_results.csv'), 'utf8').catch(() => '')).toBe('');
  });

  it('a trace line without its fields: the worker names load.trace_file, the file and the line; exit 2', {
    timeout: 120_000,
  }, async () => {
    const trace = path.join(dir, 'mooncake.jsonl');
    await writeFile(
      trace,
      '{"timestamp": 0, "input_length": 20, "output_length": 4}\n{"timestamp": 10, "input_length": 20}\n',
    );
    // a server Joules starts (the runner checks an attached one answers before the worker starts)
    const r = await run('bad-trace', [
      'engine: server',
      `server: { command: [${process.execPath}, ${FAULT_SERVER}, --port, "{port}", --mode, ok] }`,
      'launch: { launcher: python }',
      'energy: { backend: none }',
      `load: { pattern: trace, trace_file: ${trace}, trace_format: mooncake, prompt_reuse: true }`,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`load.trace_file: ${trace}:2: output_length must be an integer > 0`);
    expect(r.stderr).toMatch(/failed \(bad_config\)/);
    expect(await readFile(path.join(r.results, 'text_generation_results.csv'), 'utf8').catch(() => '')).toBe('');
  });
});
