import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@joules/launcher';
import { parse } from 'csv-parse/sync';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';

// Two machines simulated on this one: two real `joules run` processes (machine 0 and machine 1,
// 2 processes each) rendezvous on 127.0.0.1 and form one gloo world of 4 over a shared results folder.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const model = path.join(root, '.joules/models/tiny-llama');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function joules(args: string[], env: Record<string, string>, killAfterMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), killAfterMs); // never hang the suite
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function config(dir: string, port: number): Promise<string> {
  const file = path.join(dir, 'two-machines.yaml');
  await writeFile(
    file,
    JSON.stringify({
      config_name: 'two-machines',
      model_name: model,
      num_input_prompts: 8,
      max_input_tokens: 32,
      max_output_tokens: 4,
      min_output_tokens: 4,
      batch_size: 2,
      num_processes: 4,
      warmup_iterations: 0,
      energy: { backend: 'none' },
      launch: { timeout_s: 240, machines: { num_machines: 2, main_process_ip: '127.0.0.1', main_process_port: port } },
    }),
  );
  return file;
}

describe('joules run on two machines started by hand (slow)', () => {
  beforeAll(async () => {
    await execa('npx', ['tsc', '-b', 'packages/cli'], { cwd: root });
  }, 120_000);

  it('machine 0 and machine 1 form one world of 4; machine 0 records it once', { timeout: 300_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-machines-'));
    const results = path.join(dir, 'results'); // "shared storage": one folder both machines see
    const file = await config(dir, await freePort());
    const env = { JOULES_MACHINES_WAIT_S: '180' };
    const args = ['run', file, '--results-dir', results, '--json'];
    // The follower starts first: it waits for machine 0's announcement.
    const follower = joules([...args, '--set', 'launch.machines.machine_rank=1'], env, 280_000);
    await new Promise((r) => setTimeout(r, 500));
    const main = joules(args, env, 280_000);
    const [m0, m1] = await Promise.all([main, follower]);
    expect(m0.code, m0.stderr).toBe(0);
    expect(m1.code, m1.stderr).toBe(0);
    expect(m1.stderr).toMatch(/machine 1 of 2 \(ranks 2-3 of 4\): done; machine 0 records experiment 000001/);
    expect(JSON.parse(m1.stdout.trim().split('\n').at(-1)!)).toEqual({
      experiment_id: '000001',
      status: 'succeeded',
      machine_rank: 1,
      recorded_by: 0,
    });
    expect(JSON.parse(m0.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      experiment_id: '000001',
      status: 'succeeded',
    });

    const rows = parse(await readFile(path.join(results, 'text_generation_results.csv'), 'utf8'), {
      columns: true,
    }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      experiment_id: '000001',
      num_processes: '4',
      num_prompts: '8',
      total_output_tokens: '32',
    });

    const raw = path.join(results, 'raw_results', '000001');
    const setup = JSON.parse(await readFile(path.join(raw, '000001_1_experiment_setup.json'), 'utf8'));
    expect(setup.world_size).toBe(4);
    const inference = JSON.parse(await readFile(path.join(raw, '000001_4_inference_metrics.json'), 'utf8'));
    const perRank = inference.per_rank as { rank: number; tokens: { num_prompts: number } }[];
    expect(perRank.map((r) => r.rank)).toEqual([0, 1, 2, 3]);
    expect(perRank.reduce((s, r) => s + r.tokens.num_prompts, 0)).toBe(8);
    for (let r = 0; r < 4; r++) {
      const rank = JSON.parse(await readFile(path.join(raw, `000001_raw_rank_${r}.json`), 'utf8'));
      expect([rank.rank, rank.world_size]).toEqual([r, 4]);
    }
    // Nothing left behind: no announcement, no work folder, no failure; each machine kept its log.
    expect(await readdir(path.join(results, '.joules', 'machines'))).toEqual([]);
    expect(existsSync(path.join(results, '.joules', 'work', '000001'))).toBe(false);
    expect(existsSync(path.join(results, 'failed_experiments.csv'))).toBe(false);
    expect((await readdir(path.join(results, 'logs'))).sort()).toEqual(['000001.log', '000001.machine-1.log']);
  });

  it('a machine whose machine 0 never comes fails with a clear error and records nothing', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-machines-'));
    const results = path.join(dir, 'results');
    const file = await config(dir, await freePort());
    const ran = await joules(
      ['run', file, '--results-dir', results, '--set', 'launch.machines.machine_rank=1'],
      { JOULES_MACHINES_WAIT_S: '1' },
      50_000,
    );
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(
      /machine 0 did not announce this experiment within 1 s \(JOULES_MACHINES_WAIT_S\): .*\.joules\/machines\/[0-9a-f]{16}-\d+\.json never appeared/,
    );
    expect(existsSync(path.join(results, 'text_generation_results.csv'))).toBe(false);
    expect(existsSync(path.join(results, 'failed_experiments.csv'))).toBe(false);
  });
});
