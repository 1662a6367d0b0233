import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment, type Experiment } from '@joules/config';
import { describe, expect, it } from 'vitest';
import { AccelerateLauncher, PythonLauncher } from './accelerate-launcher.js';
import type { LaunchEvent, LaunchJob } from './types.js';

const fake = fileURLToPath(new URL('./__fixtures__/fake-python.mjs', import.meta.url));

function experiment(patch: Record<string, unknown> = {}): Experiment {
  const r = parseExperiment({ config_name: 'fake', model_name: 'org/model', ...patch });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
}

async function job(scenario: string, patch: Record<string, unknown> = {}, extra: Partial<LaunchJob> = {}): Promise<LaunchJob & { dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-launch-test-'));
  return {
    dir,
    experiment: experiment(patch),
    outputDir: path.join(dir, 'out'),
    logFile: path.join(dir, 'worker.log'),
    env: { FAKE_SCENARIO: scenario, FAKE_ARGV_FILE: path.join(dir, 'argv.json') },
    ...extra,
  };
}

const tmpLaunchDirs = async () => (await readdir(os.tmpdir())).filter((n) => n.startsWith('joules-launch-') && !n.startsWith('joules-launch-test-'));

describe('PythonLauncher with a fixture worker', () => {
  const launcher = new PythonLauncher({ pythonBin: fake });

  it('succeeds, reports worker events, logs every line, removes the private config', async () => {
    const before = await tmpLaunchDirs();
    const j = await job('success');
    const events: LaunchEvent[] = [];
    const outcome = await launcher.launch(j, { onEvent: (e) => events.push(e) });
    expect(outcome.status).toBe('succeeded');
    if (outcome.status !== 'succeeded') return;
    expect(outcome.rankFiles).toEqual([path.join(j.outputDir, 'rank-0.json')]);
    expect(events.map((e) => (e.type === 'worker' ? e.event.event : e.type))).toEqual(['started', 'stage', 'batch', 'exited']);
    const log = await readFile(j.logFile, 'utf8');
    expect(log).toContain('an ordinary log line');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    expect(seen.argv.slice(0, 2)).toEqual(['-m', 'joules_worker']);
    expect(seen.configMode).toBe('600');
    expect(seen.config).toEqual(j.experiment);
    expect(await tmpLaunchDirs()).toEqual(before);
  });

  it('classifies by the worker exit code', async () => {
    const outcome = await launcher.launch(await job('exit-3'));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'bad_config', exitCode: 3 });
  });

  it('exit 0 without a result is a crash, not a success', async () => {
    const outcome = await launcher.launch(await job('no-result'));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed', exitCode: 0 });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/no result for rank\(s\) 0/);
  });

  it('survives garbage on stdout', async () => {
    const outcome = await launcher.launch(await job('garbage'));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'other', exitCode: 7 });
  });

  it('kills a hung worker at the timeout', async () => {
    const outcome = await launcher.launch(await job('hang', {}, { timeoutMs: 500 }));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout' });
  });

  it('returns interrupted when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = launcher.launch(await job('hang'), {
      signal: controller.signal,
      onEvent: (e) => e.type === 'worker' && controller.abort(),
    });
    expect((await pending).status).toBe('interrupted');
  });
});

describe('AccelerateLauncher', () => {
  it('takes the failure kind from the error files, OOM first (accelerate exits 1 for all)', async () => {
    const launcher = new AccelerateLauncher({ accelerateBin: fake });
    const outcome = await launcher.launch(await job('oom-rank1', { num_processes: 2 }));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'oom', exitCode: 1 });
    if (outcome.status === 'failed') {
      expect(outcome.message).toBe('rank 1: CUDA out of memory. Tried to allocate 2.00 GiB');
      expect(outcome.errors.map((e) => e.rank)).toEqual([1, 0]);
    }
  });

  it('passes the exact argv and environment for 2 CPU processes', async () => {
    const j = await job('success', { num_processes: 2 });
    const outcome = await new AccelerateLauncher({ accelerateBin: fake }).launch(j);
    expect(outcome.status).toBe('succeeded');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    const port = seen.argv[seen.argv.indexOf('--main_process_port') + 1];
    expect(seen.argv).toEqual([
      'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
      '--dynamo_backend', 'no', '--main_process_port', port, '-m', 'joules_worker',
      '--config', seen.argv[seen.argv.indexOf('--config') + 1], '--output-dir', j.outputDir,
    ]);
    expect(Number(port)).toBeGreaterThan(0);
    expect(seen.env.ACCELERATE_USE_CPU).toBe('true');
  });
});
