import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment } from '@joules/config';
import { FAULT_SERVER, stillAlive } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { job } from '../__fixtures__/helpers.js';
import { serverJobSpec } from '../slurm/server-job.js';
import { allocationGpus, EXIT_SERVER_FAILED, runNodeJob } from './node-job.js';

// The node job of a Slurm server job, run here without Slurm: the fault server (the crash a real
// server cannot be made to show on cue) and the real worker on the tiny model.
const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const python = repo('python/.venv/bin/python');
const model = repo('.joules/models/tiny-llama');

describe('allocationGpus', () => {
  it("passes Slurm's list on; NVML indices only where it holds plain indices", () => {
    expect(allocationGpus({ CUDA_VISIBLE_DEVICES: '2,3' })).toEqual({
      visible: '2,3',
      gpuIds: [2, 3],
      devices: [2, 3],
    });
    expect(allocationGpus({})).toEqual({ visible: '', gpuIds: [], devices: [] });
    expect(allocationGpus({ CUDA_VISIBLE_DEVICES: 'GPU-a1,GPU-b2' })).toEqual({
      visible: 'GPU-a1,GPU-b2',
      gpuIds: [0, 1],
      devices: null,
    });
  });
});

describe('runNodeJob (slow)', () => {
  let dir: string;
  const saved = { offline: process.env.HF_HUB_OFFLINE, visible: process.env.CUDA_VISIBLE_DEVICES };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'joules-node-job-'));
    process.env.HF_HUB_OFFLINE = '1';
    delete process.env.CUDA_VISIBLE_DEVICES; // a CPU allocation
  });
  afterAll(async () => {
    for (const [k, v] of [
      ['HF_HUB_OFFLINE', saved.offline],
      ['CUDA_VISIBLE_DEVICES', saved.visible],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('a server that dies under the load: server_crashed with its log, exit 96, nothing left running', {
    timeout: 120_000,
  }, async () => {
    const command = [process.execPath, FAULT_SERVER, '--port', '{port}', '--mode', 'crash-on-request', '--child'];
    const r = parseExperiment({
      config_name: 'node-job',
      model_name: model,
      engine: 'server',
      server: { command },
      load: { pattern: 'closed_loop', concurrency: 1, num_requests: 2, warmup_requests: 0 },
      num_input_prompts: 2,
      max_output_tokens: 4,
      energy: { backend: 'none' },
    });
    if (!r.config) throw new Error(r.errors.join('\n'));
    const configPath = path.join(dir, 'experiment.json');
    await writeFile(configPath, JSON.stringify(r.config));
    const logFile = path.join(dir, 'server.log');
    const errorFile = path.join(dir, 'server-error.json');
    const code = await runNodeJob({
      command,
      model,
      host: '127.0.0.1',
      readyTimeoutMs: 20_000,
      logFile,
      pathPrefix: path.dirname(python),
      configPath,
      errorFile,
      workerArgv: [python, '-m', 'joules_worker', '--config', configPath, '--output-dir', path.join(dir, 'out')],
    });
    expect(code).toBe(EXIT_SERVER_FAILED);
    const error = JSON.parse(await readFile(errorFile, 'utf8'));
    expect(error.kind).toBe('server_crashed');
    expect(error.message).toMatch(/the server died during the experiment[\s\S]*segmentation fault \(simulated\)/);
    const ran = JSON.parse(await readFile(configPath, 'utf8'));
    expect(ran.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ran.server.devices).toEqual([]);
    const pids = [...(await readFile(logFile, 'utf8')).matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(2);
    expect(await stillAlive(pids, 5000)).toEqual([]);
  });

  it("server.env reaches the node's server (the job's spec carries it)", {
    timeout: 60_000,
  }, async () => {
    const tag = `JOULES_NODE_JOB_TEST=${process.pid}`;
    const j = await job('success', {
      engine: 'server',
      server: {
        command: [process.execPath, FAULT_SERVER, '--port', '{port}', '--mode', 'ok'],
        env: { JOULES_NODE_JOB_TEST: String(process.pid) },
      },
      load: { pattern: 'closed_loop', concurrency: 1, num_requests: 1 },
    });
    const configPath = path.join(j.dir, 'experiment.json');
    await writeFile(configPath, JSON.stringify(j.experiment));
    const spec = serverJobSpec(j, configPath, { accelerateBin: '/venv/bin/accelerate' })!;
    expect(spec.env).toEqual({ JOULES_NODE_JOB_TEST: String(process.pid) });
    await mkdir(path.dirname(spec.errorFile), { recursive: true });
    // The "worker": counts the processes carrying the tag (the server) while the server runs.
    const found = path.join(j.dir, 'found.txt');
    const count = `const fs = require('fs'); const n = fs.readdirSync('/proc').filter((e) => { try { return fs.readFileSync('/proc/' + e + '/environ', 'latin1').split('\\0').includes(process.argv[1]); } catch { return false; } }).length; fs.writeFileSync(process.argv[2], String(n));`;
    const code = await runNodeJob({ ...spec, workerArgv: [process.execPath, '-e', count, tag, found] });
    expect(code).toBe(0);
    expect(await readFile(found, 'utf8')).toBe('1');
  });
});
