import { describe, expect, it } from 'vitest';
import { configHash } from './config-hash.js';
import { expandSuite } from './expand.js';
import { controlsGpus, gpuControlTargets } from './gpu-section.js';
import { parseExperiment } from './parse.js';
import { parseSuite } from './suite-check.js';

const parse = (patch: Record<string, unknown>) => parseExperiment({ config_name: 'c', model_name: 'm', ...patch });
const exp = (patch: Record<string, unknown>) => {
  const r = parse(patch);
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
};
const attached = {
  engine: 'server',
  server: { url: 'http://127.0.0.1:8000' },
  load: { concurrency: 2, num_requests: 4 },
};

describe('gpu.power_limit_w and gpu.sm_clock_mhz', () => {
  it('default to null (leave the GPU as it is)', () => {
    expect(exp({}).gpu).toEqual({ power_limit_w: null, sm_clock_mhz: null });
    expect(controlsGpus(exp({}))).toBe(false);
    expect(controlsGpus(exp({ gpu_ids: [0], gpu: { sm_clock_mhz: 1200 } }))).toBe(true);
  });

  it('keep the config hash of a configuration that does not set them (results folders from before resume)', () => {
    // Pinned from the build before the `gpu` section existed.
    expect(configHash(exp({ config_name: 'h' }))).toBe('e998e771552b6413');
    expect(
      configHash(
        exp({
          config_name: 'h',
          ...attached,
          server: { ...attached.server, devices: [] },
          load: { concurrency: 2, num_requests: 4 },
        }),
      ),
    ).toBe('29943ccecc550c96');
    const set = exp({ config_name: 'h', gpu_ids: [0], gpu: { power_limit_w: 300 } });
    expect(configHash(set)).not.toBe(configHash(exp({ config_name: 'h', gpu_ids: [0] })));
    expect(configHash(set)).not.toBe(configHash(exp({ config_name: 'h', gpu_ids: [0], gpu: { power_limit_w: 250 } })));
  });

  it('are positive integers within range, errors naming the key', () => {
    expect(parse({ gpu_ids: [0], gpu: { power_limit_w: 0 } }).errors).toEqual([
      'gpu.power_limit_w: Too small: expected number to be >0',
    ]);
    expect(parse({ gpu_ids: [0], gpu: { power_limit_w: 300_000 } }).errors[0]).toMatch(/^gpu\.power_limit_w: Too big/);
    expect(parse({ gpu_ids: [0], gpu: { sm_clock_mhz: 1200.5 } }).errors[0]).toMatch(/^gpu\.sm_clock_mhz: /);
    expect(parse({ gpu_ids: [0], gpu: { fan: 1 } }).errors[0]).toMatch(/^gpu\.fan: /);
  });

  it('need GPUs to apply to, on this host', () => {
    expect(parse({ gpu: { power_limit_w: 300, sm_clock_mhz: 1200 } }).errors).toEqual([
      'gpu.power_limit_w: needs GPUs to apply to: gpu_ids is empty (the experiment runs on CPU)',
      'gpu.sm_clock_mhz: needs GPUs to apply to: gpu_ids is empty (the experiment runs on CPU)',
    ]);
    expect(parse({ ...attached, gpu: { power_limit_w: 300 } }).errors).toEqual([
      "gpu.power_limit_w: needs the attached server's GPUs on this host: set server.devices (it is empty or unset)",
    ]);
    expect(
      parse({ gpu_ids: [0], gpu: { power_limit_w: 300 }, launch: { launcher: 'slurm', slurm: { gpus_per_node: 1 } } })
        .errors,
    ).toEqual([
      'gpu.power_limit_w: not with launch.launcher "slurm": the GPU guard runs on this host, the job on a Slurm node',
    ]);
  });

  it("apply to gpu_ids, or an attached server's devices", () => {
    expect(gpuControlTargets(exp({ gpu_ids: [1, 3], gpu: { power_limit_w: 300 } }))).toEqual([1, 3]);
    const a = exp({ ...attached, server: { ...attached.server, devices: [2] }, gpu: { power_limit_w: 300 } });
    expect(gpuControlTargets(a)).toEqual([2]);
    const started = exp({
      engine: 'server',
      server: { command: ['s', '{port}'] },
      load: { concurrency: 1, num_requests: 4 },
      gpu_ids: [0],
      gpu: { sm_clock_mhz: 1400 },
    });
    expect(gpuControlTargets(started)).toEqual([0]);
  });

  it('are suite grid factors like any key', () => {
    const parsed = parseSuite({
      name: 's',
      models: ['org/a'],
      base: { gpu_ids: [0] },
      grid: { 'gpu.power_limit_w': [200, 300], 'gpu.sm_clock_mhz': [null, 1200] },
    });
    if (!parsed.config) throw new Error(parsed.errors.join('\n'));
    const x = expandSuite(parsed.config);
    expect(x.errors).toEqual([]);
    expect(x.experiments.map((e) => e.experiment.gpu)).toEqual([
      { power_limit_w: 200, sm_clock_mhz: null },
      { power_limit_w: 200, sm_clock_mhz: 1200 },
      { power_limit_w: 300, sm_clock_mhz: null },
      { power_limit_w: 300, sm_clock_mhz: 1200 },
    ]);
    expect(new Set(x.experiments.map((e) => e.hash)).size).toBe(4);
  });
});
