import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, experiment, tempDir, waitUntil } from '../__fixtures__/helpers.js';
import { AccelerateLauncher } from '../accelerate-launcher.js';
import { SessionError } from '../errors.js';
import type { LaunchEvent, Launcher, LaunchJob } from '../launcher.js';
import { LAUNCH_MARKER, markedPids } from '../process-tree.js';
import { PythonLauncher } from '../python-launcher.js';
import { loadSettingsDiff, loadSettingsKey, sessionSupport } from './load-settings.js';
import { WorkerSession } from './worker-session.js';

const fakeSession = fileURLToPath(new URL('../__fixtures__/fake-session.mjs', import.meta.url));
const launcher = new PythonLauncher({ pythonBin: fakeSession });

/** n jobs of one model in a fresh folder, each with its own output folder and log. */
async function jobs(
  n: number,
  env: Record<string, string> = {},
  patch: (i: number) => Record<string, unknown> = () => ({}),
) {
  const dir = await tempDir();
  const record = path.join(dir, 'record.jsonl');
  const list: LaunchJob[] = Array.from({ length: n }, (_, i) => ({
    id: `exp-${i}`,
    experiment: experiment({ config_name: `exp-${i}`, batch_size: 8, ...patch(i) }),
    outputDir: path.join(dir, `exp-${i}`),
    logFile: path.join(dir, `exp-${i}.log`),
    env: { FAKE_SESSION_RECORD: record, ...env },
  }));
  const recorded = async () =>
    (await readFile(record, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  return { dir, list, recorded };
}

const markerOf = async (pid: number) => {
  const env = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return env
    .split('\0')
    .find((kv) => kv.startsWith(`${LAUNCH_MARKER}=`))
    ?.slice(LAUNCH_MARKER.length + 1);
};

describe('WorkerSession with the fixture session worker', { timeout: 30_000 }, () => {
  it('runs consecutive experiments in one process, each in its own folder and log', async () => {
    const { list, recorded } = await jobs(3);
    const session = new WorkerSession(launcher);
    const events: LaunchEvent[][] = [[], [], []];
    const outcomes = [];
    for (const [i, job] of list.entries())
      outcomes.push(await session.run(job, { onEvent: (e) => events[i]?.push(e) }));
    expect(outcomes.map((o) => [o.status, o.modelReused, o.modelLoadS])).toEqual([
      ['succeeded', false, 0.5],
      ['succeeded', true, 0],
      ['succeeded', true, 0],
    ]);
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'succeeded') expect(o.rankFiles).toEqual([path.join(list[i]!.outputDir, 'rank-0.json')]);
      expect(o.command.at(-1)).toBe('--session');
    }
    const rows = await recorded();
    expect(new Set(rows.map((r) => r.pid)).size).toBe(1);
    expect(rows.map((r) => r.config_name)).toEqual(['exp-0', 'exp-1', 'exp-2']);
    expect(events[0]?.[0]?.type).toBe('started'); // the process starts once, with the first experiment
    expect(
      events
        .slice(1)
        .flat()
        .some((e) => e.type === 'started'),
    ).toBe(false);
    for (const [i, job] of list.entries()) {
      const log = await readFile(job.logFile, 'utf8');
      expect(log).toMatch(new RegExp(`^--- joules: exp-${i}, attempt 1, \\S+: session experiment ${i + 1}`));
      expect(log).toContain(`=== session experiment ${i}: exp-${i}`);
      expect(log).not.toContain(`=== session experiment ${i + 1}:`);
    }
    expect(session.alive).toBe(true);
    await session.close();
    expect(session.alive).toBe(false);
    await expect(session.run(list[0]!)).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('an OOM on cue in the 3rd experiment tears the whole tree down; the session is dead', async () => {
    const pids = await tempDir();
    const { list, recorded } = await jobs(4, { FAKE_SESSION_OOM_AT: '2', FAKE_SESSION_TREE: pids });
    const session = new WorkerSession(launcher, { killGraceMs: 500 });
    const outcomes = [];
    for (const job of list.slice(0, 3)) outcomes.push(await session.run(job));
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(outcomes[2]).toMatchObject({
      status: 'failed',
      kind: 'oom',
      exitCode: 5,
      modelReused: true,
      modelLoadS: null,
    });
    if (outcomes[2]?.status === 'failed')
      expect(outcomes[2].message).toBe('rank 0: CUDA out of memory at batch size 8');
    // the stubborn child (ignores SIGTERM) is gone too: nothing of the tree outlives run()
    const [stubborn] = (await readdir(pids)).map((n) => Number(n.split('.')[0]));
    expect(stubborn).toBeGreaterThan(0);
    expect(alive(stubborn!)).toBe(false);
    expect(session.alive).toBe(false);
    expect(session.accepts(list[3]!.experiment)).toBe(false);
    expect(await readdir(list[1]!.outputDir)).toEqual(['rank-0.json']); // earlier results untouched
    // the runner retries in a fresh session: a new process, the model loaded again
    const fresh = new WorkerSession(launcher);
    const again = { ...list[2]!, outputDir: path.join(list[2]!.outputDir, 'attempt-2') }; // as runWithRetry lays attempts out
    const retry = await fresh.run({ ...again, env: { ...again.env, FAKE_SESSION_OOM_AT: '' } });
    expect(retry, JSON.stringify(retry)).toMatchObject({ status: 'succeeded', modelReused: false });
    await fresh.close();
    const rows = await recorded();
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 0]);
    expect(rows[3].pid).not.toBe(rows[0].pid);
  });

  it('timeouts run per experiment: three 1 s experiments under a 2 s limit all pass', async () => {
    const { list } = await jobs(3, { FAKE_SESSION_STEP_MS: '1000' });
    const session = new WorkerSession(launcher);
    const started = Date.now();
    for (const job of list)
      expect((await session.run({ ...job, timeoutMs: 2000, silenceTimeoutMs: 1500 })).status).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThan(3000); // longer than one limit in all
    await new Promise((r) => setTimeout(r, 1200)); // idle between experiments: no timer runs
    expect(session.alive).toBe(true);
    await session.close();
  });

  it.each([
    ['wall-clock', { timeoutMs: 800 }, 'timed out after 800 ms (wall clock); process tree killed'],
    ['silence', { silenceTimeoutMs: 500 }, 'no output for 500 ms; process tree killed'],
  ] as const)('a hung 2nd experiment hits the %s limit and the tree is killed', async (timeout, limits, message) => {
    const { list } = await jobs(2, { FAKE_SESSION_HANG_AT: '1' });
    const session = new WorkerSession(launcher, { killGraceMs: 300 });
    expect((await session.run(list[0]!)).status).toBe('succeeded');
    const marker = (await markedPids('none')).length; // scan works (no marker, no pids)
    expect(marker).toBe(0);
    const outcome = await session.run({ ...list[1]!, ...limits });
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout', timeout, message });
    expect(session.alive).toBe(false);
  });

  it('close() during an experiment interrupts it and kills the tree', async () => {
    const { list } = await jobs(2, { FAKE_SESSION_HANG_AT: '1' });
    const session = new WorkerSession(launcher, { killGraceMs: 300 });
    await session.run(list[0]!);
    const running = session.run(list[1]!);
    await new Promise((r) => setTimeout(r, 300));
    await session.close();
    expect(await running).toMatchObject({ status: 'interrupted', message: 'interrupted by the caller' });
  });

  it('a worker that dies between experiments fails the next run as a crash', async () => {
    const { list } = await jobs(2, { FAKE_SESSION_EXIT_IDLE: '1' });
    const session = new WorkerSession(launcher);
    expect((await session.run(list[0]!)).status).toBe('succeeded');
    expect(await waitUntil(() => !session.alive, 5000)).toBe(true);
    const outcome = await session.run(list[1]!);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/exited with code 0 between experiments/);
  });

  it('abort interrupts the experiment and leaves no process', async () => {
    const { list } = await jobs(2, { FAKE_SESSION_HANG_AT: '1' });
    const session = new WorkerSession(launcher, { killGraceMs: 300 });
    let pid = 0;
    await session.run(list[0]!, {
      onEvent: (e) => {
        if (e.type === 'started') pid = e.pid;
      },
    });
    const marker = await markerOf(pid);
    expect(marker).toBeTruthy();
    const controller = new AbortController();
    setTimeout(() => controller.abort('SIGINT'), 300);
    expect(await session.run(list[1]!, { signal: controller.signal })).toMatchObject({ status: 'interrupted' });
    expect(await markedPids(marker!)).toEqual([]);
  });

  it('refuses misuse with a SessionError, before anything runs', async () => {
    const { list } = await jobs(2, {}, (i) => ({ precision: i ? 'bf16' : 'fp32' }));
    const session = new WorkerSession(launcher);
    await session.run(list[0]!);
    expect(session.accepts(list[1]!.experiment)).toBe(false);
    const error = await session.run(list[1]!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({
      code: 'LOAD_SETTINGS_DIFFER',
      message: 'load settings differ from the session\'s: precision: "bf16" (session: "fp32")',
    });
    expect(session.alive).toBe(true); // misuse does not kill it
    const busy = session.run(list[0]!);
    await expect(session.run(list[0]!)).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect((await busy).status).toBe('succeeded');
    await session.close();
    const custom: Launcher = { name: 'slurm', launch: () => Promise.reject(new Error('unused')) };
    await expect(new WorkerSession(custom).run(list[0]!)).rejects.toMatchObject({ code: 'SESSION_UNSUPPORTED' });
  });
});

describe('load settings', () => {
  const base = experiment({ model_name: 'org/m' });
  it('equal keys for experiments that differ only in what each experiment sets', () => {
    const other = experiment({
      model_name: 'org/m',
      batch_size: 2,
      max_output_tokens: 3,
      seed: 9,
      prompt_ordering: 'shuffle',
    });
    expect(loadSettingsKey(other)).toBe(loadSettingsKey(base));
  });
  it.each([
    [{ model_name: 'org/n' }, 'model_name'],
    [{ model: { revision: 'v2' } }, 'model.revision'],
    [{ model: { attn_implementation: 'eager' } }, 'model.attn_implementation'],
    [{ precision: 'bf16' }, 'precision'],
    [{ num_processes: 2, launch: { launcher: 'accelerate' } }, 'num_processes'],
    [{ gpu_ids: [1] }, 'gpu_ids'],
    [{ launch: { launcher: 'python' } }, 'launch.launcher'],
  ])('%j differs in %s', (patch, field) => {
    const other = experiment({ model_name: 'org/m', ...patch });
    expect(loadSettingsKey(other)).not.toBe(loadSettingsKey(base));
    expect(loadSettingsDiff(base, other).map((d) => d.split(':')[0])).toContain(field);
  });
  it('sessions need the python or accelerate launcher on one machine', () => {
    expect(sessionSupport(launcher, base)).toBeNull();
    expect(sessionSupport(new AccelerateLauncher({ accelerateBin: 'accelerate' }), base)).toBeNull();
    expect(sessionSupport({ name: 'mine', launch: async () => Promise.reject(new Error()) }, base)).toMatch(
      /cannot keep a model loaded/,
    );
    const machines = experiment({
      num_processes: 2,
      launch: {
        launcher: 'accelerate',
        machines: { num_machines: 2, machine_rank: 0, main_process_ip: '10.0.0.1', main_process_port: 29500 },
      },
    });
    expect(sessionSupport(launcher, machines)).toMatch(/several machines/);
  });
});
