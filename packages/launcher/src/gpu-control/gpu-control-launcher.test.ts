import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Experiment, parseExperiment } from '@joules/config';
import { readFakeNvmlState, useFakeNvml } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Launcher, LaunchJob, LaunchOutcome } from '../launcher.js';
import { GPU_CONTROL_FILE, GpuControlLauncher } from './gpu-control-launcher.js';

// The launcher side of gpu.*: the real guard (python -m joules_worker.gpu_control) against the faked
// NVML, around a scripted inner launcher that reads the GPU state the worker would see.
const python = fileURLToPath(new URL('../../../../python/.venv/bin/python', import.meta.url));
const GPU = 'GPU-launcher-test-0000';
let dir = '';
let restoreEnv = () => {};
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-gpu-launcher-'));
  restoreEnv = await useFakeNvml(dir, [{ uuid: GPU, power_limit_w: 700 }]);
});
afterAll(async () => {
  restoreEnv();
  await rm(dir, { recursive: true, force: true });
});

const experiment = (gpu: Record<string, unknown>): Experiment => {
  const r = parseExperiment({ config_name: 'c', model_name: 'm', gpu_ids: [0], gpu });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
};
const job = (e: Experiment, name: string): LaunchJob => ({
  experiment: e,
  outputDir: path.join(dir, name, '.joules', 'work', '000001'),
  logFile: path.join(dir, name, 'log'),
  stateDir: path.join(dir, name, '.joules'),
});
const ok: LaunchOutcome = { status: 'succeeded', rankFiles: [], exitCode: 0, durationMs: 0, command: [] };

/** An inner launcher that records the faked GPU's state while it "runs", then ends as told. */
function inner(end: () => LaunchOutcome) {
  const seen: unknown[] = [];
  const launcher: Launcher = {
    name: 'python',
    async launch() {
      seen.push((await readFakeNvmlState(dir))[GPU]);
      return end();
    },
  };
  return { launcher, seen };
}

describe('GpuControlLauncher', () => {
  it('passes experiments without gpu settings straight through, starting no guard', async () => {
    const i = inner(() => ok);
    const j = job(experiment({}), 'plain');
    expect(await new GpuControlLauncher(i.launcher, { pythonBin: python }).launch(j)).toBe(ok);
    expect(i.seen).toEqual([undefined]);
    expect(await readdir(path.join(dir, 'plain')).catch(() => [])).toEqual([]);
  });

  it('holds the settings while the worker runs, writes the read-back, restores after a failed attempt', {
    timeout: 30_000,
  }, async () => {
    const failed: LaunchOutcome = {
      status: 'failed',
      kind: 'other',
      message: 'the worker failed',
      exitCode: 1,
      signal: null,
      errors: [],
      durationMs: 0,
      command: [],
    };
    const i = inner(() => failed);
    const j = job(experiment({ power_limit_w: 320 }), 'held');
    expect(await new GpuControlLauncher(i.launcher, { pythonBin: python }).launch(j)).toBe(failed);
    expect(i.seen).toEqual([{ power_limit_mw: 320_000 }]);
    const record = JSON.parse(await readFile(path.join(j.outputDir, GPU_CONTROL_FILE), 'utf8'));
    expect(record).toEqual({
      requested: { power_limit_w: 320, sm_clock_mhz: null },
      gpus: [{ index: 0, uuid: GPU, power_limit_w: 320, sm_clock_mhz: 1755 }],
    });
    expect((await readFakeNvmlState(dir))[GPU]).toEqual({ power_limit_mw: 700_000 });
    expect(await readdir(path.join(j.stateDir!, 'gpu-restore'))).toEqual([]);
  });

  it('restores when the inner launcher throws, and rethrows', { timeout: 30_000 }, async () => {
    const i = inner(() => {
      throw new Error('accelerate missing');
    });
    const j = job(experiment({ sm_clock_mhz: 1200 }), 'throws');
    await expect(new GpuControlLauncher(i.launcher, { pythonBin: python }).launch(j)).rejects.toThrow(
      'accelerate missing',
    );
    expect(i.seen).toEqual([{ power_limit_mw: 700_000, locked_sm_mhz: [1200, 1200] }]);
    expect((await readFakeNvmlState(dir))[GPU]).toMatchObject({ locked_sm_mhz: null });
  });

  it('fails the attempt with kind gpu_control before the worker starts when a value is refused', {
    timeout: 30_000,
  }, async () => {
    const i = inner(() => ok);
    const outcome = await new GpuControlLauncher(i.launcher, { pythonBin: python }).launch(
      job(experiment({ power_limit_w: 900 }), 'refused'),
    );
    expect(outcome).toMatchObject({
      status: 'failed',
      kind: 'gpu_control',
      message: "gpu.power_limit_w: 900 W is outside GPU 0's range, 100 to 700 W; nothing was left changed",
    });
    expect(i.seen).toEqual([]);
  });
});
