import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseExperiment } from '@joules/config';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaunchJob } from '../launcher.js';
import { parseSacctLine, parseScontrolJob, type SlurmJobInfo } from './job-state.js';
import { jobOutcome } from './outcome.js';
import { parseGres, parseSinfo } from './sinfo.js';

// Captured from the test cluster (slurm-wlm 22.05.8).
const SCONTROL =
  'JobId=2 JobName=joules-proto UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 Account=(null) QOS=(null) ' +
  'JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=143:0 RunTime=00:00:14 ' +
  'TimeLimit=UNLIMITED TimeMin=N/A Partition=debug AllocNode:Sid=localhost:19822 ReqNodeList=(null) ExcNodeList=(null) NodeList=node[1-2] ' +
  'BatchHost=node1 NumNodes=2 NumCPUs=4 NumTasks=2 CPUs/Task=2 Command=/tmp/x/job.sh WorkDir=/tmp/x StdOut=/tmp/x/job.log Power= ';

describe('parsing Slurm', () => {
  it('scontrol show job -o', () => {
    expect(parseScontrolJob(SCONTROL)).toEqual({
      jobId: '2',
      state: 'FAILED',
      exitCode: 143,
      signal: null,
      reason: 'NonZeroExitCode',
      nodeList: 'node[1-2]',
      source: 'scontrol',
    });
    expect(
      parseScontrolJob('JobId=6 JobState=NODE_FAIL Reason=NodeDown ExitCode=0:15 NodeList=node[1-2]'),
    ).toMatchObject({ state: 'NODE_FAIL', exitCode: 0, signal: 'SIGTERM' });
    expect(parseScontrolJob('slurm_load_jobs error: Invalid job id specified')).toBeUndefined();
  });

  it('sacct -P: "CANCELLED by 1000" is CANCELLED', () => {
    expect(parseSacctLine('17|CANCELLED by 1000|0:15|gpu[3-4]|None')).toEqual({
      jobId: '17',
      state: 'CANCELLED',
      exitCode: 0,
      signal: 'SIGTERM',
      nodeList: 'gpu[3-4]',
      source: 'sacct',
    });
    expect(parseSacctLine('18|PENDING|0:0|None assigned|Priority')).toEqual({
      jobId: '18',
      state: 'PENDING',
      exitCode: 0,
      signal: null,
      reason: 'Priority',
      source: 'sacct',
    });
  });

  it('sinfo partitions, GPUs from GRES', () => {
    expect(parseGres('gpu:a100:4(S:0-1),gpu:2,shard:8')).toEqual([
      { type: 'a100', count: 4 },
      { type: null, count: 2 },
    ]);
    const parts = parseSinfo(
      'debug*|up|0/2/0/2|2|(null)|infinite|2000\ngpu|up|1/3/0/4|64|gpu:h100:8|2-00:00:00|512000\ngpu|up|0/0/2/2|32|gpu:a100:4|2-00:00:00|256000\n',
    );
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({
      name: 'debug',
      isDefault: true,
      up: true,
      nodes: { idle: 2, total: 2 },
      cpusPerNode: [2],
      gpus: [],
    });
    expect(parts[1]).toMatchObject({
      name: 'gpu',
      isDefault: false,
      nodes: { allocated: 1, idle: 3, other: 2, total: 6 },
      cpusPerNode: [64, 32],
      gpus: [
        { type: 'h100', perNode: 8, nodes: 4 },
        { type: 'a100', perNode: 4, nodes: 2 },
      ],
      timeLimit: '2-00:00:00',
    });
  });
});

describe('jobOutcome: Slurm end states onto launch outcomes', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function setup(files: Record<string, unknown>, num_processes = 2) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-slurm-outcome-'));
    dirs.push(dir);
    const outputDir = path.join(dir, 'out');
    await mkdir(outputDir);
    for (const [name, data] of Object.entries(files)) await writeFile(path.join(outputDir, name), JSON.stringify(data));
    const experiment = parseExperiment({ config_name: 'x', model_name: 'm/m', num_processes }).config!;
    const job: LaunchJob = { experiment, outputDir, logFile: path.join(dir, 'job.log') };
    return (info: Partial<SlurmJobInfo> | undefined) =>
      jobOutcome({
        jobId: '7',
        job,
        command: ['sbatch'],
        durationMs: 1,
        settleMs: 0,
        info: info && { jobId: '7', state: 'COMPLETED', exitCode: 0, signal: null, source: 'scontrol', ...info },
      });
  }
  const ranks = { 'rank-0.json': { rank: 0, world_size: 2 }, 'rank-1.json': { rank: 1, world_size: 2 } };
  const oomOnRank1 = {
    'error-rank-1.json': { schema_version: 1, rank: 1, kind: 'oom', message: 'CUDA out of memory' },
  };

  it('COMPLETED with every rank of one world: succeeded', async () => {
    const outcome = await (await setup(ranks))({});
    expect(outcome).toMatchObject({ status: 'succeeded', exitCode: 0 });
    if (outcome.status === 'succeeded')
      expect(outcome.rankFiles.map((f) => path.basename(f))).toEqual(['rank-0.json', 'rank-1.json']);
  });

  it('COMPLETED but the ranks formed separate worlds: failed', async () => {
    const outcome = await (await setup({ 'rank-0.json': { world_size: 1 }, 'rank-1.json': { world_size: 1 } }))({});
    expect(outcome).toMatchObject({ status: 'failed', kind: 'other' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/world_size 1, 1, not 2/);
  });

  it('COMPLETED without rank files: crashed', async () => {
    expect(await (await setup({}))({})).toMatchObject({ status: 'failed', kind: 'crashed' });
  });

  it.each([
    ['OUT_OF_MEMORY', 'oom'],
    ['TIMEOUT', 'timeout'],
    ['DEADLINE', 'timeout'],
    ['PREEMPTED', 'transient'],
    ['NODE_FAIL', 'transient'],
    ['BOOT_FAIL', 'transient'],
    ['CANCELLED', 'other'],
    ['REVOKED', 'other'],
  ])('%s: failed, kind %s', async (state, kind) => {
    const outcome = await (await setup({}))({ state, exitCode: 0, signal: 'SIGTERM', reason: 'Whatever' });
    expect(outcome).toMatchObject({ status: 'failed', kind, signal: 'SIGTERM' });
    if (outcome.status === 'failed' && kind === 'timeout') expect(outcome.timeout).toBe('wall-clock');
  });

  it('FAILED: the kind comes from the error files (accelerate exits 1 for all)', async () => {
    const outcome = await (await setup(oomOnRank1))({ state: 'FAILED', exitCode: 1 });
    expect(outcome).toMatchObject({
      status: 'failed',
      kind: 'oom',
      exitCode: 1,
      message: 'rank 1: CUDA out of memory',
    });
  });

  it('FAILED without error files: other, pointing at the log', async () => {
    const outcome = await (await setup({}))({ state: 'FAILED', exitCode: 143 });
    expect(outcome).toMatchObject({ status: 'failed', kind: 'other' });
    if (outcome.status === 'failed')
      expect(outcome.message).toMatch(/Slurm job 7 ended FAILED \(exit code 143\); see .*job\.log/);
  });

  it('a job Slurm forgot (no accounting) is judged by its files', async () => {
    expect(await (await setup(ranks))(undefined)).toMatchObject({ status: 'succeeded' });
    expect(await (await setup(oomOnRank1))(undefined)).toMatchObject({ status: 'failed', kind: 'oom', exitCode: null });
    expect(await (await setup({}))(undefined)).toMatchObject({ status: 'failed', kind: 'crashed' });
  });
});
