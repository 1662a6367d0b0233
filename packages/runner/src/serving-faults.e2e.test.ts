import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, FAULT_SERVER, stillAlive } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { runExperiment } from './run-experiment.js';

// Engine "server" failures with the real worker, against the fault-injecting server fixture (the
// faults a real server cannot be made to show on demand): each ends as a classified failure with
// the server log's tail, the server's processes gone, and no result row.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = path.join(root, '.joules/models/tiny-llama');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function run(server: string, load = 'warmup_requests: 0, num_requests: 2') {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-serving-fault-'));
  dirs.push(dir);
  const config = path.join(dir, 'fault.yaml');
  await writeFile(
    config,
    `config_name: fault\nmodel_name: ${model}\nengine: server\nserver: ${server}\nload: { pattern: closed_loop, concurrency: 1, ${load} }\nnum_input_prompts: 3\nmax_output_tokens: 4\nenergy: { backend: none }\nretry: { max_retries: 0 }\nlaunch: { launcher: python }\n`,
  );
  const outcome = await runExperiment({ config, resultsDir: path.join(dir, 'results') });
  const logs = path.join(dir, 'results', 'logs');
  const serverLog = (await readdir(logs).catch(() => [] as string[])).find((n) => n.endsWith('-server.log'));
  const pids = serverLog
    ? [...(await readFile(path.join(logs, serverLog), 'utf8')).matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) =>
        Number(m[1]),
      )
    : [];
  await stillAlive(pids, 5000);
  const failures = parse(await readFile(path.join(dir, 'results', 'failed_experiments.csv'), 'utf8'), {
    columns: true,
  }) as Record<string, string>[];
  const csv = await readFile(path.join(dir, 'results', 'text_generation_results.csv'), 'utf8').catch(() => null);
  return { outcome, pids, failures, csv };
}
const fault = (mode: string, extra = '') =>
  `{ command: [${process.execPath}, ${FAULT_SERVER}, --port, "{port}", --mode, ${mode}, --child], ready_timeout_s: 20${extra} }`;

describe('engine server failures (slow)', () => {
  it.each([
    [
      'crash-on-request',
      'server_crashed',
      /server died during the experiment \(exit code 139\)[\s\S]*segmentation fault \(simulated\)/,
    ],
    ['garbage', 'server_error', /\(garbage\).*not a server-sent event line[\s\S]*--- last lines of/],
    ['truncated', 'server_error', /\(truncated\).*before a finish_reason or \[DONE\]/],
    ['http500', 'server_error', /all 2 requests failed.*HTTP 500.*internal error \(fault-server\)/],
  ])('%s → %s, with the log tail, the server gone, no row', { timeout: 120_000 }, async (mode, kind, message) => {
    const r = await run(fault(mode));
    expect(r.outcome).toMatchObject({ status: 'failed', kind });
    expect((r.outcome as { message: string }).message).toMatch(message);
    expect(r.pids).toHaveLength(2);
    expect(r.pids.filter(alive)).toEqual([]);
    expect(r.failures.map((f) => f.kind)).toEqual([kind]);
    expect(r.csv).toBeNull();
  });

  it('a stalled stream fails after server.request_timeout_s as server_error (stall)', {
    timeout: 120_000,
  }, async () => {
    const r = await run(fault('stall', ', request_timeout_s: 2'));
    expect(r.outcome).toMatchObject({ status: 'failed', kind: 'server_error' });
    expect((r.outcome as { message: string }).message).toMatch(/\(stall\).*no data from the server for 2 s/);
    expect(r.pids.filter(alive)).toEqual([]);
  });

  it('a server the warm-up cannot use fails before any measurement', { timeout: 120_000 }, async () => {
    const r = await run(fault('http500'), 'warmup_requests: 1, num_requests: 2');
    expect(r.outcome).toMatchObject({ status: 'failed', kind: 'server_error' });
    expect((r.outcome as { message: string }).message).toMatch(/warm-up request 1 failed: HTTP 500/);
  });

  it('an unreachable server.url: server_unreachable, no worker started', { timeout: 60_000 }, async () => {
    const r = await run('{ url: "http://127.0.0.1:9", devices: [] }');
    expect(r.outcome).toMatchObject({ status: 'failed', kind: 'server_unreachable' });
    expect((r.outcome as { message: string }).message).toMatch(/cannot reach server.url http:\/\/127.0.0.1:9/);
  });

  it('a command that is not there: server_start_failed naming it', { timeout: 60_000 }, async () => {
    const r = await run('{ command: [no-such-inference-server, --port, "{port}"] }');
    expect(r.outcome).toMatchObject({ status: 'failed', kind: 'server_start_failed' });
    expect((r.outcome as { message: string }).message).toMatch(/not found or not runnable: no-such-inference-server/);
  });
});
