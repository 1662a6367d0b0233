import { parseExperiment } from '@joules/config';
import { describe, expect, it } from 'vitest';
import { effectiveLauncher, launchJob } from './launch-job.js';

const exp = (over: Record<string, unknown>) =>
  parseExperiment({ config_name: 'x', model_name: 'm/m', ...over }).config!;
const machines = { num_machines: 2, machine_rank: 0, main_process_ip: '10.0.0.7', main_process_port: 29555 };

describe('launch.launcher: auto', () => {
  it('is the default, and means python for one process and accelerate for more', () => {
    expect(exp({}).launch.launcher).toBe('auto');
    expect(effectiveLauncher(exp({}))).toBe('python');
    expect(effectiveLauncher(exp({ num_processes: 2 }))).toBe('accelerate');
    expect(effectiveLauncher(exp({ num_processes: 2, launch: { machines } }))).toBe('accelerate');
  });

  it('explicit values keep their meaning', () => {
    expect(effectiveLauncher(exp({ launch: { launcher: 'accelerate' } }))).toBe('accelerate');
    expect(effectiveLauncher(exp({ launch: { launcher: 'slurm' } }))).toBe('slurm');
    expect(effectiveLauncher(exp({ num_processes: 2, launch: { launcher: 'slurm' } }))).toBe('slurm');
    expect(effectiveLauncher(exp({ launch: { launcher: '/opt/mine.mjs' } }))).toBe('/opt/mine.mjs');
  });

  it('the worker never sees auto: the launch job carries the resolved launcher', () => {
    expect(launchJob('/r', '000001', exp({})).experiment.launch.launcher).toBe('python');
    expect(launchJob('/r', '000001', exp({ num_processes: 4 })).experiment.launch.launcher).toBe('accelerate');
  });

  it('several hand-started machines accept auto (it is accelerate there)', () => {
    const r = parseExperiment({ config_name: 'x', model_name: 'm/m', num_processes: 4, launch: { machines } });
    expect(r.errors).toEqual([]);
  });
});
