import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, fake, job, tempDir } from './__fixtures__/helpers.js';
import { AccelerateLauncher } from './accelerate-launcher.js';
import type { LaunchEvent } from './launcher.js';
import { killRunningLaunches } from './process-tree.js';
import { PythonLauncher } from './python-launcher.js';
import { launchDirPrefix } from './stale-launch-dirs.js';

// This process's private config folders (their names carry its pid and start time; other processes' come and go).
const tmpLaunchDirs = async () => (await readdir(os.tmpdir())).filter((n) => n.startsWith(launchDirPrefix()));

describe('PythonLauncher with a fixture worker', { timeout: 30_000 }, () => {
  const launcher = new PythonLauncher({ pythonBin: fake });

  it('succeeds, reports worker events, logs every line, removes the private config', async () => {
    const before = await tmpLaunchDirs();
    const j = await job('success');
    const events: LaunchEvent[] = [];
    const outcome = await launcher.launch(j, { onEvent: (e) => events.push(e) });
    expect(outcome.status).toBe('succeeded');
    if (outcome.status !== 'succeeded') return;
    expect(outcome.rankFiles).toEqual([path.join(j.outputDir, 'rank-0.json')]);
    expect(events.map((e) => (e.type === 'worker' ? e.event.event : e.type))).toEqual([
      'started',
      'stage',
      'batch',
      'exited',
    ]);
    const log = await readFile(j.logFile, 'utf8');
    expect(log).toMatch(
      new RegExp(
        `^--- joules: fake, attempt 1, \\S+: CUDA_DEVICE_ORDER=PCI_BUS_ID ${fake} -m joules_worker --config \\S+ --output-dir ${j.outputDir}\n`,
      ),
    );
    expect(log).not.toContain('FAKE_SCENARIO'); // job.env (tokens, maybe) stays out of the log
    expect(log).toContain('an ordinary log line');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    expect(seen.argv.slice(0, 2)).toEqual(['-m', 'joules_worker']);
    expect(seen.configMode).toBe('600');
    expect(seen.config).toEqual(j.experiment);
    expect(seen.env.JOULES_LAUNCH_ID).toMatch(new RegExp(`^${process.pid}-\\d+-[0-9a-f]{8}$`));
    expect(await tmpLaunchDirs()).toEqual(before);
  });

  it.each([
    [3, 'bad_config'],
    [4, 'model_not_found'],
    [5, 'oom'],
    [6, 'dataset'],
    [7, 'transient'],
    [8, 'unsupported'],
    [1, 'other'],
    [42, 'other'],
  ])('classifies worker exit code %i as %s', async (code, kind) => {
    const outcome = await launcher.launch(await job(`exit-${code}`));
    expect(outcome).toMatchObject({ status: 'failed', kind, exitCode: code });
  });

  it('exit 0 without a result is a crash, not a success', async () => {
    const outcome = await launcher.launch(await job('no-result'));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed', exitCode: 0 });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/no result for rank\(s\) 0/);
  });

  it('a worker killed by a signal is a crash', async () => {
    const outcome = await launcher.launch(await job('crash'));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed', exitCode: null, signal: 'SIGSEGV' });
  });

  it('survives garbage on stdout and stderr', async () => {
    const j = await job('garbage');
    const outcome = await launcher.launch(j);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'other', exitCode: 1 });
    expect(await readFile(j.logFile, 'utf8')).toContain('{{{ not json');
  });

  it('kills a hung worker at the wall-clock timeout', async () => {
    const outcome = await launcher.launch(await job('hang', {}, { timeoutMs: 500 }));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout', timeout: 'wall-clock', signal: 'SIGTERM' });
  });

  it('kills a worker that goes silent at the silence timeout', async () => {
    const outcome = await launcher.launch(await job('silent', {}, { silenceTimeoutMs: 400 }));
    expect(outcome).toMatchObject({ status: 'failed', kind: 'timeout', timeout: 'silence' });
    if (outcome.status === 'failed') expect(outcome.message).toBe('no output for 400 ms; process tree killed');
  });

  it('output keeps the silence timer from firing', async () => {
    // 60 lines over 3 s, each gap 50 ms: the 2 s silence limit must not fire.
    const outcome = await launcher.launch(await job('chatty', {}, { silenceTimeoutMs: 2000 }));
    expect(outcome.status).toBe('succeeded');
  });

  it('returns interrupted when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = launcher.launch(await job('hang'), {
      signal: controller.signal,
      onEvent: (e) => e.type === 'worker' && controller.abort(),
    });
    expect((await pending).status).toBe('interrupted');
  });

  it('does not start at all when the signal is already aborted', async () => {
    const j = await job('success');
    const outcome = await launcher.launch(j, { signal: AbortSignal.abort() });
    expect(outcome).toEqual({
      status: 'interrupted',
      message: 'interrupted before it started',
      durationMs: 0,
      command: [],
    });
    await expect(readFile(path.join(j.dir, 'argv.json'))).rejects.toThrow(/ENOENT/);
  });

  it('throws LaunchSetupError when the executable is missing', async () => {
    const missing = new PythonLauncher({ pythonBin: path.join(os.tmpdir(), 'no-such-python-here') });
    await expect(missing.launch(await job('success'))).rejects.toMatchObject({
      name: 'LaunchSetupError',
      code: 'LAUNCH_SETUP',
    });
  });
});

describe('AccelerateLauncher', { timeout: 30_000 }, () => {
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
      'launch',
      '--multi_gpu',
      '--num_processes',
      '2',
      '--num_machines',
      '1',
      '--mixed_precision',
      'no',
      '--dynamo_backend',
      'no',
      '--main_process_port',
      port,
      '-m',
      'joules_worker',
      '--config',
      seen.argv[seen.argv.indexOf('--config') + 1],
      '--output-dir',
      j.outputDir,
    ]);
    expect(Number(port)).toBeGreaterThan(0);
    expect(seen.env).toMatchObject({ ACCELERATE_USE_CPU: 'true', CUDA_VISIBLE_DEVICES: null });
  });

  it('abort forwards SIGINT to the tree, SIGKILLs what ignores it, leaves no process alive', async () => {
    const pidDir = await tempDir();
    const controller = new AbortController();
    let ready = 0;
    const pending = new AccelerateLauncher({ accelerateBin: fake }).launch(
      await job('tree', { num_processes: 2 }, { killGraceMs: 500, env: { FAKE_PID_DIR: pidDir } }),
      { signal: controller.signal, onEvent: (e) => e.type === 'worker' && ++ready === 2 && controller.abort('SIGINT') },
    );
    expect(await pending).toMatchObject({ status: 'interrupted' });
    const files = await readdir(pidDir);
    const pids = files.filter((f) => f.endsWith('.pid')).map((f) => Number(f.slice(0, -4)));
    expect(pids).toHaveLength(2);
    // Both got SIGINT, the signal the caller named; the rank in its own session ignored it.
    for (const pid of pids) expect(await readFile(path.join(pidDir, `${pid}.signals`), 'utf8')).toBe('SIGINT\n');
    expect(pids.filter(alive)).toEqual([]);
  });

  it('kills at once a rank that outlives its launcher process (an orphan in its own session)', async () => {
    const pidDir = await tempDir();
    // The rank holds the output pipe and ignores SIGTERM: without the sweep this launch never ends.
    const outcome = await new AccelerateLauncher({ accelerateBin: fake }).launch(
      await job('orphan', { num_processes: 2 }, { killGraceMs: 60_000, env: { FAKE_PID_DIR: pidDir } }),
    );
    expect(outcome).toMatchObject({ status: 'failed', kind: 'other', exitCode: 1 });
    const pids = (await readdir(pidDir)).filter((f) => f.endsWith('.pid')).map((f) => Number(f.slice(0, -4)));
    expect(pids).toHaveLength(2);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('killRunningLaunches: SIGKILL to every running tree at once (for a CLI: second Ctrl-C)', async () => {
    const pidDir = await tempDir();
    let ready = 0;
    let killed = -1;
    const outcome = await new AccelerateLauncher({ accelerateBin: fake }).launch(
      await job(
        'tree',
        { num_processes: 2 },
        { killGraceMs: 60_000, env: { FAKE_PID_DIR: pidDir, FAKE_STUBBORN_LAUNCHER: '1' } },
      ),
      {
        onEvent: (e) => {
          if (e.type === 'worker' && ++ready === 2) killed = killRunningLaunches();
        },
      },
    );
    expect(killed).toBe(2);
    expect(outcome).toMatchObject({ status: 'failed', kind: 'crashed', signal: 'SIGKILL' });
    const pids = (await readdir(pidDir)).filter((f) => f.endsWith('.pid')).map((f) => Number(f.slice(0, -4)));
    expect(pids.filter(alive)).toEqual([]);
    expect(killRunningLaunches()).toBe(0);
  });
});
