import { describe, expect, it } from 'vitest';
import { configHash, effectiveConfigHash } from './config-hash.js';
import { parseExperiment } from './parse.js';
import { energyHostShared, hostScopeEnergy, sharedHostProblems } from './shared-host.js';

const exp = (patch: Record<string, unknown>) => {
  const r = parseExperiment({ config_name: 'c', model_name: 'org/m', ...patch });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
};
const job = (key: string, energy: Record<string, unknown>, patch: Record<string, unknown> = {}) => ({
  key,
  experiment: exp({ energy, ...patch }),
});

describe('parallel jobs on one host with a host-level energy backend', () => {
  it('host-level backends: codecarbon, rapl, zeus, and auto on CPU; nvml and none are not', () => {
    expect(hostScopeEnergy(exp({ energy: { backend: 'codecarbon' } }))).toBe(true);
    expect(hostScopeEnergy(exp({ energy: { backend: 'rapl' } }))).toBe(true);
    expect(hostScopeEnergy(exp({ energy: { backend: 'zeus' }, gpu_ids: [0] }))).toBe(true);
    expect(hostScopeEnergy(exp({ energy: { backend: 'auto' } }))).toBe(true);
    expect(hostScopeEnergy(exp({ energy: { backend: 'auto' }, gpu_ids: [0] }))).toBe(false);
    expect(hostScopeEnergy(exp({ energy: { backend: 'nvml' }, gpu_ids: [0] }))).toBe(false);
    expect(hostScopeEnergy(exp({ energy: { backend: 'none' } }))).toBe(false);
  });

  it('refuses --max-parallel > 1 with one, naming the flag, the backend and the opt-in', () => {
    const jobs = [job('a', { backend: 'codecarbon' }), job('b', { backend: 'nvml' }, { gpu_ids: [1] })];
    const problems = sharedHostProblems(jobs, 2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^a: --max-parallel 2 with energy\.backend codecarbon: .*whole host's CPU and RAM.*energy\.allow_shared_host: true/,
    );
    expect(sharedHostProblems(jobs, 1)).toEqual([]);
    expect(sharedHostProblems(jobs.slice(0, 1), 4)).toEqual([]); // one job: nothing runs beside it
    expect(
      sharedHostProblems(
        [job('g1', { backend: 'nvml' }, { gpu_ids: [0] }), job('g2', { backend: 'nvml' }, { gpu_ids: [1] })],
        2,
      ),
    ).toEqual([]);
  });

  it("the opt-in allows it, without an idle baseline (it would be measured under the other jobs' load)", () => {
    const allowed = [
      job('a', { backend: 'rapl', allow_shared_host: true }),
      job('b', { backend: 'rapl', allow_shared_host: true }),
    ];
    expect(sharedHostProblems(allowed, 2)).toEqual([]);
    const idle = [job('a', { backend: 'rapl', allow_shared_host: true, idle_baseline_s: 5 }), allowed[1]!];
    expect(sharedHostProblems(idle, 2)).toEqual([
      expect.stringMatching(
        /^a: energy\.idle_baseline_s 5 with energy\.allow_shared_host and --max-parallel 2: .*other jobs' load/,
      ),
    ]);
    expect(sharedHostProblems(idle, 1)).toEqual([]);
  });

  it('rows are marked shared only when a host-level reader really ran beside other jobs', () => {
    const e = exp({ energy: { backend: 'codecarbon', allow_shared_host: true } });
    expect(energyHostShared(e, 2, 3)).toBe(true);
    expect(energyHostShared(e, 1, 3)).toBe(false);
    expect(energyHostShared(e, 2, 1)).toBe(false);
    expect(energyHostShared(exp({ energy: { backend: 'nvml', allow_shared_host: true }, gpu_ids: [0] }), 2, 3)).toBe(
      false,
    );
  });
});

describe('effectiveConfigHash', () => {
  it('is the planned hash when the run went as planned, another when the batch size was halved', () => {
    const planned = exp({ batch_size: 8 });
    expect(effectiveConfigHash(planned, planned)).toBe(configHash(planned));
    const halved = effectiveConfigHash(planned, { batch_size: 4 });
    expect(halved).not.toBe(configHash(planned));
    expect(halved).toBe(configHash(exp({ batch_size: 4 }))); // the same configuration planned at 4
  });
});
