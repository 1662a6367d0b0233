import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, fake, job, tempDir, waitUntil } from './__fixtures__/helpers.js';
import { AccelerateLauncher } from './accelerate-launcher.js';
import type { JobEvent } from './job-events.js';
import type { Launcher } from './launcher.js';
import { type BatchJob, runBatch } from './run-batch.js';

const accelerate = new AccelerateLauncher({ accelerateBin: fake });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Run {
  job: string;
  gpus: number[];
  cvd: string | null;
  configGpus: number[];
  port: string;
  start: number;
  end: number;
}

async function readRuns(dir: string): Promise<Run[]> {
  const runs = [];
  for (const f of await readdir(dir)) {
    const r = JSON.parse(await readFile(path.join(dir, f), 'utf8'));
    runs.push({ ...r, gpus: r.gpus === null ? [] : r.gpus.split(',').map(Number) });
  }
  return runs;
}

const overlapInTime = (a: Run, b: Run) => a.start < b.end && b.start < a.end;
/** Pairs of runs that held one GPU at the same instant. */
const gpuConflicts = (runs: Run[]) =>
  runs.flatMap((a, i) =>
    runs
      .slice(i + 1)
      .filter((b) => overlapInTime(a, b) && a.gpus.some((g) => b.gpus.includes(g)))
      .map((b) => [a.job, b.job]),
  );
const mostAtOnce = (runs: Run[]) =>
  Math.max(...runs.map((a) => runs.filter((b) => b.start <= a.start && a.start < b.end).length));

async function recordingJobs(specs: { gpus: number[]; np: number }[], recordDir: string): Promise<BatchJob[]> {
  return Promise.all(
    specs.map(({ gpus, np }, i) =>
      job(
        'record',
        { config_name: `job-${i}`, num_processes: np, gpu_ids: gpus },
        { id: `job-${i}`, env: { FAKE_RECORD_DIR: recordDir, FAKE_SLEEP_MS: '600' } },
      ),
    ),
  );
}

describe('runBatch over a GPU pool', { timeout: 60_000 }, () => {
  it('the overlap check catches GPUs shared in time (negative control)', () => {
    const run = (job: string, gpus: number[], start: number, end: number): Run => ({
      job,
      gpus,
      start,
      end,
      cvd: null,
      configGpus: gpus,
      port: '1',
    });
    expect(
      gpuConflicts([run('a', [0, 1], 0, 10), run('b', [1], 9, 20), run('c', [1], 20, 30), run('d', [2], 0, 30)]),
    ).toEqual([['a', 'b']]);
  });

  it('8 fake GPUs, jobs of 1, 2 and 4 GPUs: no GPU shared at any instant, each job on its own ids and port', async () => {
    const recordDir = await tempDir();
    const sizes = [4, 2, 1, 1, 2, 4, 1, 2, 1, 4, 2, 1, 1, 2];
    const jobs = await recordingJobs(
      sizes.map((k) => ({ gpus: range(k), np: k })),
      recordDir,
    );
    const events: JobEvent[] = [];
    const results = await runBatch(jobs, {
      launcher: accelerate,
      gpus: range(8),
      maxParallel: 8,
      retry: { maxRetries: 0 },
      onEvent: (e) => events.push(e),
    });
    expect(results.map((r) => r.outcome.status)).toEqual(sizes.map(() => 'succeeded'));
    const runs = await readRuns(recordDir);
    expect(runs).toHaveLength(sizes.length);
    for (const r of runs) {
      const k = sizes[Number(r.job.slice(4))]!;
      expect(r.gpus).toHaveLength(k);
      expect(new Set(r.gpus).size).toBe(k);
      expect(r.gpus.every((g) => g >= 0 && g < 8)).toBe(true);
      // accelerate's --gpu_ids, the environment and the worker's config all name the same GPUs.
      expect(r.cvd).toBe(r.gpus.join(','));
      expect(r.configGpus).toEqual(r.gpus);
    }
    expect(gpuConflicts(runs)).toEqual([]);
    expect(mostAtOnce(runs)).toBeGreaterThan(1); // it did run jobs side by side
    const together = runs.flatMap((a, i) =>
      runs
        .slice(i + 1)
        .filter((b) => overlapInTime(a, b))
        .map((b) => [a.port, b.port]),
    );
    expect(together.every(([p, q]) => p !== q)).toBe(true);
    expect(events.filter((e) => e.type === 'queued').map((e) => e.type === 'queued' && e.gpus)).toEqual(sizes);
    for (const r of results) {
      const started = events.find((e) => e.type === 'started' && e.jobId === r.jobId);
      expect(started?.type === 'started' && started.gpuIds).toEqual(r.experiment.gpu_ids);
    }
  });

  it('without a pool, jobs naming the same GPU never overlap; others run alongside', async () => {
    const recordDir = await tempDir();
    const jobs = await recordingJobs(
      [
        { gpus: [0, 1], np: 2 },
        { gpus: [1, 2], np: 2 },
        { gpus: [3], np: 1 },
      ],
      recordDir,
    );
    const results = await runBatch(jobs, { launcher: accelerate, maxParallel: 3 });
    expect(results.map((r) => r.experiment.gpu_ids)).toEqual([[0, 1], [1, 2], [3]]);
    const runs = await readRuns(recordDir);
    expect(gpuConflicts(runs)).toEqual([]);
    expect(runs.find((r) => r.job === 'job-2')!.gpus).toEqual([3]);
  });

  it('on CPU, parallel jobs get distinct --main_process_port values', async () => {
    const recordDir = await tempDir();
    const jobs = await recordingJobs(
      range(4).map(() => ({ gpus: [], np: 2 })),
      recordDir,
    );
    await runBatch(jobs, { launcher: accelerate, maxParallel: 4 });
    const runs = await readRuns(recordDir);
    expect(runs.every((r) => r.gpus.length === 0 && r.cvd === null && Number(r.port) > 0)).toBe(true);
    expect(mostAtOnce(runs)).toBeGreaterThan(1);
    const together = runs.flatMap((a, i) =>
      runs
        .slice(i + 1)
        .filter((b) => overlapInTime(a, b))
        .map((b) => [a.port, b.port]),
    );
    expect(together.length).toBeGreaterThan(0);
    expect(together.every(([p, q]) => p !== q)).toBe(true);
  });

  it('checks its options before starting anything', async () => {
    const big = await job('success', { num_processes: 4, gpu_ids: [0, 1, 2, 3] });
    await expect(runBatch([big], { launcher: accelerate, gpus: [0, 1] })).rejects.toMatchObject({
      code: 'GPU_POOL_TOO_SMALL',
      message: 'jobs[0] (0): needs 4 GPUs (num_processes) but the pool has 2 ([0, 1])',
    });
    await expect(readFile(path.join(big.dir, 'argv.json'))).rejects.toThrow(/ENOENT/);
    await expect(
      runBatch(
        [
          { ...big, id: 'x' },
          { ...big, id: 'x' },
        ],
        { launcher: accelerate },
      ),
    ).rejects.toThrow('jobs[1].id: "x" is used twice');
    await expect(runBatch([big], { launcher: accelerate, maxParallel: 0 })).rejects.toThrow(
      'maxParallel: expected an integer ≥ 1, got 0',
    );
    await expect(runBatch([big], { launcher: accelerate, gpus: [0, 0] })).rejects.toThrow(
      'gpus: expected distinct GPU indices ≥ 0, got [0, 0]',
    );
    await expect(runBatch([big], { launcher: accelerate, retry: { maxRetries: -1 } })).rejects.toMatchObject({
      code: 'BAD_RETRY_POLICY',
    });
  });

  it('a job whose launcher throws fails with the error; the others run', async () => {
    const broken: Launcher = { name: 'broken', launch: () => Promise.reject(new Error('no such binary')) };
    const jobs: BatchJob[] = [{ ...(await job('success')), launcher: broken }, await job('success')];
    const events: JobEvent[] = [];
    const results = await runBatch(jobs, { launcher: accelerate, maxParallel: 2, onEvent: (e) => events.push(e) });
    expect(results[0]).toMatchObject({
      outcome: { status: 'failed', kind: 'other', message: 'launcher failed: no such binary' },
      error: { message: 'no such binary' },
    });
    expect(results[1]!.outcome.status).toBe('succeeded');
    expect(events.filter((e) => e.type === 'failed').map((e) => e.jobId)).toEqual(['0']);
  });
});

describe('runBatch interrupted', () => {
  it('SIGINT during a batch: children get SIGINT, stubborn ones SIGKILL; none alive 5 s later; all interrupted', async () => {
    const pidDir = await tempDir();
    // Job t0's launcher process ignores SIGINT too: only SIGKILL after the default grace stops it.
    const env = (i: number) => ({ FAKE_PID_DIR: pidDir, ...(i === 0 && { FAKE_STUBBORN_LAUNCHER: '1' }) });
    const jobs = await Promise.all(
      range(3).map((i) => job('tree', { num_processes: 2 }, { id: `t${i}`, env: env(i) })),
    );
    const controller = new AbortController();
    const events: JobEvent[] = [];
    let abortedAt = 0;
    let ready = 0;
    const results = await runBatch(jobs, {
      launcher: accelerate,
      maxParallel: 2,
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        // Both running jobs are up with both their processes: interrupt as the CLI does on Ctrl-C.
        if (e.type === 'worker' && ++ready === 4) {
          abortedAt = Date.now();
          controller.abort('SIGINT');
        }
      },
    });
    expect(results.map((r) => r.outcome.status)).toEqual(['interrupted', 'interrupted', 'interrupted']);
    expect(results.map((r) => r.attempts.length)).toEqual([1, 1, 0]);
    expect(results[2]!.outcome).toMatchObject({ message: 'interrupted before it started' });
    expect(
      events
        .filter((e) => e.type === 'interrupted')
        .map((e) => e.jobId)
        .sort(),
    ).toEqual(['t0', 't1', 't2']);
    expect(
      events.filter(
        (e) => e.type === 'failed' || e.type === 'succeeded' || e.type === 'retrying' || e.type === 'attempt-failed',
      ),
    ).toEqual([]);

    const files = await readdir(pidDir);
    const pids = files.filter((f) => f.endsWith('.pid')).map((f) => Number(f.slice(0, -4)));
    expect(pids).toHaveLength(4); // 2 running jobs × (launcher process + rank in its own session)
    expect(await waitUntil(() => pids.every((p) => !alive(p)), Math.max(0, abortedAt + 5000 - Date.now()))).toBe(true);
    for (const pid of pids) expect(await readFile(path.join(pidDir, `${pid}.signals`), 'utf8')).toBe('SIGINT\n');
  }, 30_000);
});
