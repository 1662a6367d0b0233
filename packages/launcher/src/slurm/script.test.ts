import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseExperiment } from '@joules/config';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SlurmError } from '../errors.js';
import type { LaunchJob } from '../launcher.js';
import { planJob, type SlurmResources, sbatchArgs } from './resources.js';
import { accelerateArgs, batchScript } from './script.js';
import { parseSlurmTime } from './time.js';

function job(patch: Record<string, unknown> = {}, extra: Partial<LaunchJob> = {}): LaunchJob {
  const r = parseExperiment({ config_name: 'x', model_name: 'm/m', ...patch });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return {
    experiment: r.config,
    outputDir: '/shared/r/.joules/work/000001',
    logFile: '/shared/r/logs/50%.log',
    ...extra,
  };
}

function refusal(resources: SlurmResources, j: LaunchJob): string {
  try {
    planJob(resources, j);
  } catch (error) {
    expect(error).toBeInstanceOf(SlurmError);
    expect((error as SlurmError).code).toBe('SLURM_BAD_OPTIONS');
    return (error as Error).message;
  }
  throw new Error('planJob accepted the resources');
}

describe('parseSlurmTime', () => {
  it.each([
    ['30', 1800],
    ['5:30', 330],
    ['2:00:00', 7200],
    ['1-12', 129600],
    ['1-0:30', 88200],
    ['1-00:00:01', 86401],
  ])('%s is %i s', (text, seconds) => expect(parseSlurmTime(text)).toBe(seconds));
  it('numbers are minutes; UNLIMITED is no limit; junk is undefined', () => {
    expect(parseSlurmTime(90)).toBe(5400);
    expect(parseSlurmTime('UNLIMITED')).toBeNull();
    expect(parseSlurmTime('2h')).toBeUndefined();
    expect(parseSlurmTime(0)).toBeUndefined();
  });
});

describe('planJob', () => {
  it('splits the world over the nodes and takes the smaller of time_limit and timeoutMs', () => {
    expect(planJob({ nodes: 2, timeLimit: '1:00:00' }, job({ num_processes: 4 }, { timeoutMs: 90_000 }))).toEqual({
      nodes: 2,
      processesPerNode: 2,
      gpusPerNode: 0,
      timeLimitMin: 2,
    });
    expect(planJob({}, job())).toEqual({ nodes: 1, processesPerNode: 1, gpusPerNode: 0 });
  });

  it('names the field that cannot work', () => {
    expect(refusal({ nodes: 2 }, job({ num_processes: 3 }))).toMatch(
      /^num_processes: 3 processes do not split evenly over 2 nodes/,
    );
    expect(refusal({ nodes: 0 }, job())).toMatch(/^launch\.slurm\.nodes: expected an integer >= 1/);
    expect(refusal({ gpusPerNode: 2 }, job())).toMatch(/^gpu_ids: empty \(run on CPU\)/);
    expect(refusal({}, job({ gpu_ids: [0] }))).toMatch(/^launch\.slurm\.gpus_per_node: must be > 0/);
    expect(refusal({ nodes: 1, gpusPerNode: 2 }, job({ num_processes: 4, gpu_ids: [0, 1, 2, 3] }))).toMatch(
      /4 processes per node .* do not fit 2 GPU/,
    );
    expect(refusal({ mem: '4 GB' }, job())).toMatch(/^launch\.slurm\.mem: expected a size/);
    expect(refusal({ timeLimit: '2 hours' }, job())).toMatch(/^launch\.slurm\.time_limit:/);
    expect(refusal({ partition: 'gpu; rm -rf /' }, job())).toMatch(/^launch\.slurm\.partition:/);
    expect(refusal({ extraArgs: ['--nodes=4'] }, job())).toMatch(
      /^launch\.slurm\.extra_args: --nodes=4 is set by the launcher/,
    );
    expect(refusal({ extraArgs: ['-N4'] }, job())).toMatch(/-N4 is set by the launcher/);
    expect(refusal({ extraArgs: ['exclusive'] }, job())).toMatch(/is not an option/);
    expect(planJob({ extraArgs: ['--exclusive', '--nodelist=gpu7', '--ntasks-per-socket=1'] }, job())).toMatchObject({
      nodes: 1,
    });
  });
});

describe('sbatchArgs', () => {
  it('asks for one task per node, appends the log, escapes % and passes the extras last', () => {
    const j = job({ num_processes: 8, gpu_ids: [0, 1, 2, 3, 4, 5, 6, 7] });
    const resources: SlurmResources = {
      nodes: 2,
      gpusPerNode: 4,
      cpusPerTask: 16,
      mem: '64G',
      partition: 'gpu',
      account: 'proj',
      qos: 'high',
      timeLimit: 90,
      extraArgs: ['--constraint=a100'],
    };
    expect(sbatchArgs(planJob(resources, j), resources, j, '/shared/job')).toEqual([
      '--parsable',
      '--job-name=joules-x',
      '--output=/shared/r/logs/50%%.log',
      '--open-mode=append',
      '--chdir=/shared/job',
      '--nodes=2',
      '--ntasks-per-node=1',
      '--no-requeue',
      '--cpus-per-task=16',
      '--gpus-per-node=4',
      '--mem=64G',
      '--partition=gpu',
      '--account=proj',
      '--qos=high',
      '--time=90',
      '--constraint=a100',
    ]);
  });
});

describe('batchScript', () => {
  const input = (j: LaunchJob, resources: SlurmResources) => ({
    plan: planJob(resources, j),
    job: j,
    accelerateBin: "/opt/it's/accelerate",
    configPath: '/shared/job/experiment.json',
    jobDir: '/shared/job',
    token: 'abc',
  });

  it('CPU: --multi_gpu with ACCELERATE_USE_CPU, the whole world over all machines, no --gpu_ids', () => {
    const j = job({ num_processes: 4 }, { env: { HF_HUB_OFFLINE: '1' } });
    expect(accelerateArgs(input(j, { nodes: 2 }))).toEqual([
      '--multi_gpu',
      '--num_processes',
      '4',
      '--num_machines',
      '2',
      '--mixed_precision',
      'no',
      '--dynamo_backend',
      'no',
      '-m',
      'joules_worker',
      '--config',
      '/shared/job/experiment.json',
      '--output-dir',
      j.outputDir,
    ]);
    const script = batchScript(input(j, { nodes: 2 }));
    expect(script).toContain("export ACCELERATE_USE_CPU='true'");
    expect(script).toContain("export HF_HUB_OFFLINE='1'");
    expect(script).toContain('--machine_rank "$SLURM_NODEID"');
    expect(script).toContain(`'/opt/it'\\''s/accelerate'`);
  });

  it('GPUs: no CPU override, mixed precision from the experiment, GPUs per node on each step', () => {
    const j = job({ num_processes: 8, gpu_ids: [0, 1, 2, 3, 4, 5, 6, 7], precision: 'bf16' });
    const script = batchScript(input(j, { nodes: 2, gpusPerNode: 4 }));
    expect(script).not.toContain('ACCELERATE_USE_CPU');
    expect(script).toContain("export CUDA_DEVICE_ORDER='PCI_BUS_ID'"); // Slurm's GPU numbers are PCI order, as NVML's
    expect(script).toContain("'--mixed_precision' 'bf16'");
    expect(script).toContain('--gpus-per-node=4');
    expect(script).not.toContain('--gpu_ids');
  });

  it('refuses an environment name the shell would misread', () => {
    expect(() => batchScript(input(job({}, { env: { 'A;rm -rf ~': '1' } }), {}))).toThrow(
      /env: "A;rm -rf ~" is not a variable name/,
    );
  });

  it('one CPU process on one node: --cpu', () => {
    expect(accelerateArgs(input(job(), {})).slice(0, 3)).toEqual(['--cpu', '--num_processes', '1']);
  });

  it('engine "server": the node job (server, worker, stop) replaces accelerate, and is valid bash', async () => {
    const serving = job({
      engine: 'server',
      server: { command: ['transformers', 'serve', '{model}', '--port', '{port}'] },
      load: { pattern: 'closed_loop', concurrency: 2, num_requests: 8 },
      launch: { launcher: 'slurm' },
    });
    const script = batchScript({
      ...input(serving, {}),
      nodeJob: { node: '/opt/node/bin/node', main: "/srv/it's/node-job-main.js", spec: '/shared/job/server-job.json' },
    });
    expect(script).toContain(
      `--kill-on-bad-exit=1 '/opt/node/bin/node' '/srv/it'\\''s/node-job-main.js' '/shared/job/server-job.json'`,
    );
    expect(script).not.toContain(' launch --machine_rank');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-slurm-script-'));
    await writeFile(path.join(dir, 'job.sh'), script);
    const r = await execa('bash', ['-n', path.join(dir, 'job.sh')], { reject: false });
    await rm(dir, { recursive: true, force: true });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('is a valid bash script (bash -n)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-slurm-script-'));
    const file = path.join(dir, 'job.sh');
    await writeFile(
      file,
      batchScript(input(job({ num_processes: 4 }, { env: { A: "it's $HOME" } }), { nodes: 2, cpusPerTask: 2 })),
    );
    const r = await execa('bash', ['-n', file], { reject: false });
    await rm(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  });
});
