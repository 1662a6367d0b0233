import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SlurmCluster, slurmUnavailable, startSlurmCluster, stopSlurmClusters } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `joules suite` with launcher "slurm" on a real Slurm cluster of 2 emulated nodes (the launcher's
// harness), through the built bin (`npx tsc -b packages/cli`), the real worker and the tiny model.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const tinyModel = path.join(root, '.joules/models/tiny-llama');

const unavailable = await slurmUnavailable();
if (unavailable) console.warn(`\n[@joules/cli] SKIPPED the Slurm suite tests: ${unavailable}\n`);

interface Entry {
  key: string;
  status: string;
  rev: number;
  experimentId?: string;
  job?: string;
}

/** The journal's latest entry per key. */
async function journal(resultsDir: string): Promise<Map<string, Entry>> {
  const text = await readFile(path.join(resultsDir, '.joules', 'progress.jsonl'), 'utf8').catch(() => '');
  const latest = new Map<string, Entry>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as Entry;
    if ((latest.get(e.key)?.rev ?? 0) <= e.rev) latest.set(e.key, e);
  }
  return latest;
}

const slurmIds = (entries: Map<string, Entry>) =>
  [...entries.values()].flatMap((e) => (e.job?.startsWith('slurm:') ? [e.job.slice(6)] : []));

describe.skipIf(unavailable !== undefined)('joules suite on a real 2-node Slurm cluster (slow)', () => {
  let cluster: SlurmCluster;
  beforeAll(async () => {
    cluster = await startSlurmCluster();
  }, 60_000);
  afterAll(stopSlurmClusters, 60_000);

  async function suiteFile(name: string, cycles: number): Promise<{ file: string; resultsDir: string }> {
    const dir = path.join(cluster.dir, name);
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'suite.yaml');
    await writeFile(
      file,
      `name: ${name}
cycles: ${cycles}
models: [${JSON.stringify(tinyModel)}]
base:
  num_input_prompts: 2
  max_input_tokens: 16
  max_output_tokens: 2
  min_output_tokens: 2
  batch_size: 2
  warmup_iterations: 0
  energy: { backend: none }
  retry: { max_retries: 0 }
  launch:
    launcher: slurm
    slurm: { cpus_per_task: 1 }
scenarios:
  a: {}
  b: { batch_size: 1 }
  c: { max_output_tokens: 3, min_output_tokens: 3 }
`,
    );
    return { file, resultsDir: path.join(dir, 'results') };
  }

  /**
   * Run the bin; once the journal holds `jobsBeforeSignal` Slurm jobs, send `signal` (if given).
   * Resolves with the exit code or signal and what it printed.
   */
  function joules(
    args: string[],
    resultsDir: string,
    stop?: { signal: NodeJS.Signals; jobsBeforeSignal: number; running?: boolean },
    sample?: () => Promise<void>,
  ) {
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [bin, ...args], {
          env: { ...process.env, ...cluster.env, HF_HUB_OFFLINE: '1', JOULES_SLURM_POLL_MS: '300' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        let watching = stop !== undefined || sample !== undefined;
        const watch = async () => {
          while (watching) {
            await sample?.();
            const ids = stop ? slurmIds(await journal(resultsDir)) : [];
            if (
              stop &&
              ids.length >= stop.jobsBeforeSignal &&
              (!stop.running || (await running()).some((id) => ids.includes(id)))
            ) {
              child.kill(stop.signal);
              return;
            }
            await new Promise((r) => setTimeout(r, stop ? 100 : 300));
          }
        };
        void watch();
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          watching = false;
          resolve({ code, signal, stdout, stderr });
        });
      },
    );
  }

  /** Every job the controller remembers whose folder lies in `dir`: id → state. */
  async function jobsUnder(dir: string): Promise<Map<string, string>> {
    const out = (await cluster.slurm('scontrol', ['show', 'job', '-o'])).stdout;
    const jobs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const id = /JobId=(\d+)/.exec(line)?.[1];
      const state = /JobState=(\S+)/.exec(line)?.[1];
      if (id && state && line.includes(`WorkDir=${dir}/`)) jobs.set(id, state);
    }
    return jobs;
  }

  const squeue = async (args: string[] = []) =>
    (await cluster.slurm('squeue', ['--noheader', '--format=%i', ...args])).stdout
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  const queued = () => squeue();
  const running = () => squeue(['--states=RUNNING']);

  it('a suite of 6 completes with --max-parallel 2; killed with SIGKILL and run again, it reattaches: no job twice, one row per key', {
    timeout: 300_000,
  }, async () => {
    const { file, resultsDir } = await suiteFile('killed', 2);
    const args = ['suite', file, '--results-dir', resultsDir, '--max-parallel', '2', '--json'];

    const first = await joules(args, resultsDir, { signal: 'SIGKILL', jobsBeforeSignal: 2 });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const before = await journal(resultsDir);
    const orphans = slurmIds(before);
    expect(orphans).toHaveLength(2);
    // The killed suite's jobs live on in Slurm (queued, running or already finished; never cancelled).
    const states = await jobsUnder(resultsDir);
    for (const id of orphans)
      expect(states.get(id), `job ${id}`).toMatch(/^(PENDING|CONFIGURING|RUNNING|COMPLETING|COMPLETED)$/);

    // At no time more than 2 of its jobs queued or running (COMPLETING included: a slot is freed when the job has ended).
    let most = 0;
    const second = await joules(args, resultsDir, undefined, async () => {
      most = Math.max(most, (await queued()).length);
    });
    expect(most).toBe(2);
    expect(second.code, second.stderr).toBe(0);
    for (const id of orphans) expect(second.stderr).toMatch(new RegExp(`reattaching to Slurm job ${id} \\(\\w+`));
    const events = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.find((e) => e.type === 'planned')).toMatchObject({ total: 6, toRun: 6 });
    expect(events.at(-1)).toMatchObject({ type: 'summary', done: 6, failed: 0, interrupted: 0 });

    // Each key ran as exactly one Slurm job: 6 jobs in all, the 2 reattached ones kept their experiment ids.
    const after = await journal(resultsDir);
    expect([...after.values()].map((e) => e.status)).toEqual(Array(6).fill('done'));
    for (const [key, e] of before)
      if (e.job) expect(after.get(key)).toMatchObject({ experimentId: e.experimentId, job: e.job });
    const all = await jobsUnder(resultsDir);
    expect([...all.keys()].sort()).toEqual(slurmIds(after).sort());
    expect([...all.values()]).toEqual(Array(6).fill('COMPLETED'));
    expect(await queued()).toEqual([]);

    const rows = parse(await readFile(path.join(resultsDir, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => `${r.config_name}|${r.cycle_id}`)).size).toBe(6);
    expect(rows.map((r) => r.experiment_id).sort()).toEqual([...after.values()].map((e) => e.experimentId).sort());
  });

  it('SIGINT cancels every job it submitted and exits 130', { timeout: 120_000 }, async () => {
    const { file, resultsDir } = await suiteFile('interrupted', 1);
    const run = await joules(
      ['suite', file, '--results-dir', resultsDir, '--max-parallel', '2', '--json'],
      resultsDir,
      { signal: 'SIGINT', jobsBeforeSignal: 2, running: true },
    );
    expect(run.code, run.stderr).toBe(130);
    const submitted = await jobsUnder(resultsDir);
    // The third experiment never got a slot, so never a job.
    expect(submitted.size).toBe(2);
    expect([...submitted.values()]).toEqual(['CANCELLED', 'CANCELLED']);
    const ids = await queued();
    for (const id of submitted.keys()) expect(ids).not.toContain(id);
    expect(run.stderr).toContain('SIGINT: stopping the running experiment(s)');
    // Nothing of the jobs runs any more: no worker of this results folder is left.
    const { execa } = await import('execa');
    expect((await execa('ps', ['-eo', 'args'])).stdout).not.toContain(resultsDir);
    const entries = await journal(resultsDir);
    expect([...entries.values()].filter((e) => e.job).map((e) => e.status)).toEqual(['interrupted', 'interrupted']);
  });
});
