import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFakeNvmlState, useFakeNvml } from '@joules/test-utils';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// gpu.power_limit_w and gpu.sm_clock_mhz through the real `joules run` bin, the real worker on the
// tiny model (CPU), NVML faked: GPU 0 lets everything be set; GPU 1 refuses clock locks (no
// permission). The faked NVML keeps what was set in a file, so the test sees what a killed process left.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const model = path.join(root, '.joules/models/tiny-llama');
const GPU0 = 'GPU-0a0a0a0a-fake-4e1b-9a3d-000000000000';
const GPU1 = 'GPU-1b1b1b1b-fake-4e1b-9a3d-111111111111';
let dir = '';
let restoreEnv = () => {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-gpu-control-e2e-'));
  restoreEnv = await useFakeNvml(dir, [
    { uuid: GPU0, name: 'NVIDIA H100', power_w: 120, power_limit_w: 700, sm_clock_step_mhz: 15 },
    { uuid: GPU1, name: 'NVIDIA H100', power_w: 120, power_limit_w: 700, deny: ['clocks'] },
  ]);
});
afterAll(async () => {
  restoreEnv();
  await rm(dir, { recursive: true, force: true });
});

async function config(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  const base = [
    `config_name: ${name}`,
    'num_input_prompts: 4',
    'max_input_tokens: 32',
    'max_output_tokens: 4',
    'min_output_tokens: 4',
    'batch_size: 2',
    'warmup_iterations: 0',
    'energy: { backend: nvml, measure_power_secs: 0.05 }',
    'launch: { launcher: python }',
    'retry: { max_retries: 0 }',
  ];
  const own = new Set(lines.map((l) => l.split(':')[0]));
  await writeFile(file, [...base.filter((l) => !own.has(l.split(':')[0])), ...lines, ''].join('\n'));
  return file;
}

function joules(args: string[], onStderr?: (text: string, kill: () => void) => void) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr, () => child.kill('SIGKILL'));
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
}

/** GPU `uuid` as configured: 700 W, clocks unlocked (a set then restored leaves these values). */
async function untouched(uuid: string): Promise<boolean> {
  const s = (await readFakeNvmlState(dir))[uuid] ?? {};
  return (s.power_limit_mw ?? 700_000) === 700_000 && !s.locked_sm_mhz;
}

async function restoreFiles(results: string): Promise<string[]> {
  return readdir(path.join(results, '.joules', 'gpu-restore')).catch(() => []);
}

const rows = async (results: string) =>
  parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), { columns: true }) as Record<
    string,
    string
  >[];

describe('gpu.power_limit_w and gpu.sm_clock_mhz (faked NVML, slow)', () => {
  it('sets them before the window, records what NVML enforces, restores them after success', {
    timeout: 120_000,
  }, async () => {
    const results = path.join(dir, 'ok');
    const file = await config('capped', [
      `model_name: ${model}`,
      'gpu_ids: [0]',
      'gpu: { power_limit_w: 250, sm_clock_mhz: 1400 }',
    ]);
    const r = await joules(['run', file, '--results-dir', results, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [row] = await rows(results);
    expect(row).toMatchObject({ gpu_power_limit_w: '250', gpu_sm_clock_mhz: '1395' }); // 15 MHz steps: 1395 runs
    // The worker saw the cap in its window: its environment reads the enforced limit through NVML.
    const raw = await readFile(
      path.join(results, 'raw_results', row!.experiment_id!, `${row!.experiment_id}_raw_rank_0.json`),
      'utf8',
    );
    expect(raw).toMatch(/"power_limit_w": 250(\.0)?\b/);
    expect(raw).not.toMatch(/"power_limit_w": 700(\.0)?\b/);
    expect(await readFakeNvmlState(dir)).toMatchObject({ [GPU0]: { power_limit_mw: 700_000, locked_sm_mhz: null } });
    expect(await restoreFiles(results)).toEqual([]);
  });

  it('restores them after a failing experiment', { timeout: 120_000 }, async () => {
    const results = path.join(dir, 'failing');
    await rm(path.join(dir, 'fake-nvml-state.json'), { force: true });
    const file = await config('fails', [
      `model_name: ${path.join(dir, 'no-such-model')}`,
      'gpu_ids: [0]',
      'gpu: { power_limit_w: 300 }',
    ]);
    const r = await joules(['run', file, '--results-dir', results]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/failed \(model_not_found\)/);
    // Set (the state file has the GPU) and put back.
    expect((await readFakeNvmlState(dir))[GPU0]).toEqual({ power_limit_mw: 700_000 });
    expect(await restoreFiles(results)).toEqual([]);
  });

  it('restores them after `kill -9` of joules (the guard sees its parent die)', { timeout: 120_000 }, async () => {
    const results = path.join(dir, 'killed');
    const file = await config('killed', [
      `model_name: ${model}`,
      'gpu_ids: [0]',
      'energy: { backend: nvml, measure_power_secs: 0.05, idle_baseline_s: 30 }', // a long idle baseline: killed inside it
      'gpu: { power_limit_w: 200, sm_clock_mhz: 1200 }',
    ]);
    let capped = false;
    const r = await joules(['run', file, '--results-dir', results], (text, kill) => {
      if (capped || !/loading prompts|warmup|measuring/.test(text)) return;
      capped = true;
      void readFakeNvmlState(dir).then((s) => {
        expect(s[GPU0]).toEqual({ power_limit_mw: 200_000, locked_sm_mhz: [1200, 1200] }); // held while the worker runs
        kill();
      });
    });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(capped).toBe(true);
    const deadline = Date.now() + 15_000;
    // The guard puts the GPU back, then removes its restore file: wait for both (CI once read the
    // file in between).
    const restored = async () => (await untouched(GPU0)) && (await restoreFiles(results)).length === 0;
    while (!(await restored()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(await readFakeNvmlState(dir)).toMatchObject({ [GPU0]: { power_limit_mw: 700_000, locked_sm_mhz: null } });
    expect(await restoreFiles(results)).toEqual([]);
  });

  it('is refused cleanly without the permission: exit 2, the key and the permission named, nothing changed', {
    timeout: 60_000,
  }, async () => {
    const results = path.join(dir, 'refused');
    await rm(path.join(dir, 'fake-nvml-state.json'), { force: true });
    const file = await config('refused', [
      `model_name: ${model}`,
      'gpu_ids: [1]',
      'gpu: { power_limit_w: 300, sm_clock_mhz: 1400 }',
    ]);
    const r = await joules(['run', file, '--results-dir', results, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/failed \(gpu_control\).*gpu\.sm_clock_mhz: NVML refused to lock the SM clock on GPU 1/);
    expect(r.stderr).toMatch(/root or CAP_SYS_ADMIN/);
    expect(r.stderr).toMatch(/nothing was left changed/);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'failed', kind: 'gpu_control' });
    expect(await untouched(GPU1)).toBe(true); // its power limit was set, then put back when the lock was refused
    expect(await restoreFiles(results)).toEqual([]);
    // The worker never started: no log of it, no row.
    expect(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8').catch(() => '')).toBe('');
  });
});
