import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment } from '@joules/config';
import { type SlurmCluster, slurmUnavailable, startSlurmCluster, stopSlurmClusters } from '@joules/test-utils';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmError } from '../errors.js';
import type { LaunchEvent, LaunchJob, LaunchOutcome } from '../launcher.js';
import { findSubmittedJob } from './job-files.js';
import type { SlurmResources } from './resources.js';
import { slurmStatus } from './sinfo.js';
import { SlurmLauncher, type SlurmStartedEvent } from './slurm-launcher.js';

// A real Slurm cluster of 2 emulated nodes, the real worker and accelerate on the tiny model
// (`npm run bootstrap` makes them); a fixture stands in for accelerate only to hang on cue.
const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const accelerate = repo('python/.venv/bin/accelerate');
const tinyModel = repo('.joules/models/tiny-llama');
const hanging = fileURLToPath(new URL('./__fixtures__/fake-accelerate.mjs', import.meta.url));

const unavailable = await slurmUnavailable();
if (unavailable) console.warn(`\n[@joules/launcher] SKIPPED the Slurm integration tests: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('SlurmLauncher on a real 2-node Slurm cluster (slow)', () => {
  let cluster: SlurmCluster;
  let timeLimited: Promise<LaunchOutcome>;
  let counter = 0;

  const launcher = (resources: SlurmResources, accelerateBin = accelerate) =>
    new SlurmLauncher({ accelerateBin, resources, env: cluster.env, pollMs: 300, settleMs: 2000 });

  async function job(patch: Record<string, unknown> = {}, base = path.join(cluster.dir, 'shared')): Promise<LaunchJob> {
    const dir = path.join(base, `exp-${++counter}`);
    await mkdir(dir, { recursive: true });
    const r = parseExperiment({
      config_name: `slurm-e2e-${counter}`,
      model_name: tinyModel,
      num_input_prompts: 8,
      max_input_tokens: 32,
      max_output_tokens: 4,
      min_output_tokens: 4,
      batch_size: 2,
      warmup_iterations: 0,
      save_outputs: true,
      ...patch,
    });
    if (!r.config) throw new Error(r.errors.join('\n'));
    return {
      experiment: r.config,
      outputDir: path.join(dir, 'out'),
      logFile: path.join(dir, 'job.log'),
      env: { HF_HUB_OFFLINE: '1' },
    };
  }

  const squeueIds = async () =>
    (await cluster.slurm('squeue', ['--noheader', '--format=%i'])).stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  const jobIdOf = (events: LaunchEvent[]) =>
    (events.find((e) => e.type === 'started') as SlurmStartedEvent | undefined)?.schedulerJobId;

  beforeAll(async () => {
    cluster = await startSlurmCluster();
    // Slurm enforces time limits in whole minutes, up to ~30 s late: start this one first and
    // collect it in the last test. It holds one CPU of node1; the other tests fit beside it.
    timeLimited = launcher({ timeLimit: 1, cpusPerTask: 1, extraArgs: ['--nodelist=node1'] }, hanging).launch(
      await job({}),
    );
    timeLimited.catch(() => {}); // awaited (and its rejection reported) by the last test
  }, 60_000);

  afterAll(stopSlurmClusters, 60_000);

  it('sinfo reports the partition and its 2 idle nodes', async () => {
    const status = await slurmStatus({ env: cluster.env });
    expect(status).toMatchObject({
      reachable: true,
      partitions: [{ name: 'debug', isDefault: true, up: true, cpusPerNode: [2], gpus: [] }],
    });
    if (status.reachable) expect(status.partitions[0]!.nodes.total).toBe(2);
  });

  it('a 2-node experiment forms one accelerate world of 4 processes', { timeout: 240_000 }, async () => {
    const j = await job({ num_processes: 4 });
    const events: LaunchEvent[] = [];
    const outcome = await launcher({ nodes: 2, cpusPerTask: 1 }).launch(j, { onEvent: (e) => events.push(e) });
    const log = await readFile(j.logFile, 'utf8').catch(() => '(no log)');
    expect(outcome.status, `${JSON.stringify(outcome)}\n${log}`).toBe('succeeded');
    if (outcome.status !== 'succeeded') return;
    const ranks = await Promise.all(outcome.rankFiles.map(async (f) => JSON.parse(await readFile(f, 'utf8'))));
    expect(ranks.map((r) => [r.rank, r.world_size])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
    expect(ranks.map((r) => r.local_rank)).toEqual([0, 1, 0, 1]);
    // Each rank generated for its own prompts: 8 prompts in all, none twice.
    const prompts = ranks.flatMap((r) => r.outputs.prompts as string[]);
    expect(ranks.map((r) => r.tokens.num_prompts)).toEqual([2, 2, 2, 2]);
    expect(new Set(prompts).size).toBe(8);
    expect(ranks.every((r) => r.tokens.output_tokens === 8)).toBe(true);
    // One job, submitted once, on both nodes, its log beside the results.
    const started = events.filter((e) => e.type === 'started') as SlurmStartedEvent[];
    expect(started).toHaveLength(1);
    expect(log).toContain(`joules: Slurm job ${started[0]!.schedulerJobId} on 2 node(s): node[1-2]`);
    expect(log).toMatch(/joules: main process at 127\.0\.0\.1:\d+/);
    expect(events.some((e) => e.type === 'worker' && e.event.event === 'stage')).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'exited', exitCode: 0, signal: null });
    expect(await squeueIds()).not.toContain(started[0]!.schedulerJobId);
  });

  const serve = [
    ...['transformers', 'serve', '{model}', '--device', 'cpu', '--host', '{host}', '--port', '{port}'],
    ...['--continuous-batching', '--cb-num-blocks', '128', '--cb-block-size', '32', '--cb-max-batch-tokens', '512'],
  ];
  const serving = (server: Record<string, unknown>) => ({
    engine: 'server',
    server: { ready_timeout_s: 120, ...server },
    load: { pattern: 'closed_loop', concurrency: 2, num_requests: 6, warmup_requests: 1 },
    num_input_prompts: 7,
    min_output_tokens: 0, // transformers serve (dialect openai) takes no min_tokens
    energy: { backend: 'none' },
    launch: { launcher: 'slurm' },
  });
  const servers = async (model: string) =>
    (await execa('ps', ['-eo', 'pid=,args='])).stdout
      .split('\n')
      .filter((l) => l.includes(' serve ') && l.includes(model) && !l.includes('ps -eo'));

  it('engine "server": the job starts transformers serve on its node, the worker loads it, the server goes after', {
    timeout: 240_000,
  }, async () => {
    const j = await job(serving({ command: serve }));
    const outcome = await launcher({ cpusPerTask: 2 }).launch(j);
    const log = await readFile(j.logFile, 'utf8').catch(() => '(no log)');
    expect(outcome.status, `${JSON.stringify(outcome)}\n${log}`).toBe('succeeded');
    const lines = (await readFile(path.join(j.outputDir, 'requests-rank-0.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).error)).toEqual(Array(6).fill(null));
    // The worker got the node's server: its URL and (on CPU) no GPUs, in the experiment it read.
    const ran = JSON.parse(await readFile(path.join(j.outputDir, 'slurm', 'experiment.json'), 'utf8'));
    expect(ran.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ran.server.devices).toEqual([]);
    const serverLog = await readFile(j.logFile.replace(/\.log$/, '-server.log'), 'utf8');
    expect(serverLog.match(/POST \/v1\/completions/g)?.length).toBeGreaterThanOrEqual(7); // 1 warm-up + 6
    expect(await servers(tinyModel)).toEqual([]);
  });

  it('engine "server": a server command that is not found fails the job as server_start_failed', {
    timeout: 60_000,
  }, async () => {
    const j = await job(serving({ command: ['/nonexistent/serve', '{model}', '--port', '{port}'] }));
    const outcome = await launcher({ cpusPerTask: 1 }).launch(j);
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.kind).toBe('server_start_failed');
    expect(outcome.message).toMatch(/server command not found or not runnable: \/nonexistent\/serve/);
  });

  it('engine "server": aborting during the load cancels the job, and no server process is left', {
    timeout: 120_000,
  }, async () => {
    const j = await job({
      ...serving({ command: serve }),
      load: { pattern: 'closed_loop', concurrency: 2, duration_s: 300, warmup_requests: 1, prompt_reuse: true },
    });
    const controller = new AbortController();
    const running = launcher({ cpusPerTask: 2 }).launch(j, { signal: controller.signal });
    const serverLog = j.logFile.replace(/\.log$/, '-server.log');
    for (let i = 0; i < 600; i++) {
      const text = await readFile(serverLog, 'utf8').catch(() => '');
      if ((text.match(/POST \/v1\/completions/g) ?? []).length >= 4) break; // measured requests flow
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await servers(tinyModel)).toHaveLength(1);
    controller.abort();
    expect((await running).status).toBe('interrupted');
    const deadline = Date.now() + 10_000;
    while ((await servers(tinyModel)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await servers(tinyModel)).toEqual([]);
  });

  it('aborting cancels the job (scancel): gone from the queue, its processes gone, interrupted', {
    timeout: 60_000,
  }, async () => {
    const j = await job({ num_processes: 2 });
    const controller = new AbortController();
    const events: LaunchEvent[] = [];
    const outcome = await launcher({ nodes: 2, cpusPerTask: 1 }, hanging).launch(j, {
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'worker') controller.abort();
      },
    });
    expect(outcome).toMatchObject({ status: 'interrupted' });
    const jobId = jobIdOf(events)!;
    expect(await squeueIds()).not.toContain(jobId);
    expect((await cluster.slurm('scontrol', ['show', 'job', '-o', jobId])).stdout).toContain('JobState=CANCELLED');
    const ps = (await execa('ps', ['-eo', 'args'])).stdout;
    expect(ps).not.toContain(j.outputDir);
  });

  it('detach leaves the job running; a new launcher attaches to it later and collects it', {
    timeout: 240_000,
  }, async () => {
    const j = await job({ num_processes: 2 });
    const controller = new AbortController();
    const events: LaunchEvent[] = [];
    const outcome = await launcher({ cpusPerTask: 1 }).launch(j, {
      signal: controller.signal,
      detach: true,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'started') controller.abort();
      },
    });
    expect(outcome.status).toBe('interrupted');
    if (outcome.status === 'interrupted') expect(outcome.message).toMatch(/detached: Slurm job \d+ keeps running/);
    const jobId = jobIdOf(events)!;
    expect(await squeueIds()).toContain(jobId);
    // As a restarted `joules suite` would: a new launcher, the job id from the record beside the job.
    expect((await findSubmittedJob(j))?.jobId).toBe(jobId);
    // `resuming` attaches on its first launch (runWithRetry's first attempt) instead of submitting.
    const attached = await launcher({ cpusPerTask: 1 }).resuming(jobId).launch(j);
    expect(attached.status, JSON.stringify(attached)).toBe('succeeded');
    if (attached.status === 'succeeded')
      expect(attached.rankFiles.map((f) => path.basename(f))).toEqual(['rank-0.json', 'rank-1.json']);
    expect(attached.command).toEqual(outcome.command);
    expect(await squeueIds()).not.toContain(jobId);
  });

  it('attaching to a job Slurm no longer knows (no accounting here) judges it by the files it left', {
    timeout: 30_000,
  }, async () => {
    const outcome = await launcher({}).attach('999999', await job());
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed', exitCode: null });
    if (outcome.status === 'failed')
      expect(outcome.message).toMatch(/Slurm job 999999 is no longer known to Slurm \(no accounting\)/);
  });

  it('a job whose log stays silent is cancelled: timeout (silence)', { timeout: 60_000 }, async () => {
    const j = { ...(await job()), silenceTimeoutMs: 2000 };
    const outcome = await launcher({ cpusPerTask: 1 }, hanging).launch(j);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout', timeout: 'silence' });
  });

  it('a node failing under the job (NODE_FAIL) is transient: retried by policy', { timeout: 60_000 }, async () => {
    const j = await job({ num_processes: 2 });
    const outcome = await launcher({ nodes: 2, cpusPerTask: 1 }, hanging).launch(j, {
      onEvent: (e) => {
        if (e.type === 'worker')
          void cluster.slurm('scontrol', ['update', 'nodename=node2', 'state=down', 'reason=joules-test']);
      },
    });
    expect(outcome).toMatchObject({ status: 'failed', kind: 'transient' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/ended NODE_FAIL/);
    await cluster.waitUp();
  });

  it('sbatch refusing the job (more nodes than the cluster has) is a bad config, with its reason', {
    timeout: 30_000,
  }, async () => {
    const outcome = await launcher({ nodes: 3 }).launch(await job({ num_processes: 3 }));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'bad_config' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/^sbatch refused the job: sbatch: error: /);
  });

  it('results on a folder a node cannot see: a clear error naming that node', { timeout: 60_000 }, async (ctx) => {
    if (!cluster.nodeLocalDir) return ctx.skip();
    const j = await job({ num_processes: 2 }, cluster.nodeLocalDir);
    const error = await launcher({ nodes: 2, cpusPerTask: 1 })
      .launch(j)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlurmError);
    expect((error as SlurmError).code).toBe('SLURM_STORAGE_NOT_SHARED');
    expect((error as SlurmError).message).toMatch(
      /is not visible from node\(s\) node2 of Slurm job \d+: the results folder must be on storage all nodes share/,
    );
  });

  it('a job past its time limit ends TIMEOUT: failed, kind timeout (wall-clock)', { timeout: 180_000 }, async () => {
    const outcome = await timeLimited;
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout', timeout: 'wall-clock' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/ended TIMEOUT \(TimeLimit\)/);
  });
});
