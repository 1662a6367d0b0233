import { describe, expect, it } from 'vitest';
import { rawRank, reading } from './__fixtures__/raw.js';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { MetricsError } from './errors.js';

const gpu = (host: string, n: number | string) => `${host}/gpu/GPU-${n}`;

describe('energy: each device counted once', () => {
  it('2 ranks on 2 GPUs (no sharing): both count', () => {
    const ranks = [0, 1].map((r) =>
      rawRank({ rank: r, deviceId: `cuda:${r}`, readings: [reading(gpu('node-1', r), 'gpu', 40 + r)] }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(81);
    expect(t.energy_by_scope_j.gpu).toBe(81);
    expect(t.energy_readings).toHaveLength(2);
  });

  it('2 ranks on 1 GPU: once, the largest reading kept', () => {
    const ranks = [
      rawRank({ rank: 0, deviceId: 'cuda:0', readings: [reading(gpu('node-1', 0), 'gpu', 40, false, 50)] }),
      rawRank({ rank: 1, deviceId: 'cuda:0', readings: [reading(gpu('node-1', 0), 'gpu', 42, false, 51)] }),
    ];
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(42);
    expect(t.energy_counted_readings).toEqual([reading(gpu('node-1', 0), 'gpu', 42, false, 51)]);
    expect(t.energy_mean_per_process_j).toBe(21);
  });

  it('equal readings of one device: the lowest rank wins, whatever the input order', () => {
    const ranks = [
      rawRank({ rank: 1, readings: [reading('node-1/cpu', 'cpu', 10, true, 7)] }),
      rawRank({ rank: 0, readings: [reading('node-1/cpu', 'cpu', 10, true, 5)] }),
    ];
    expect(aggregateRanks(ranks).energy_readings[0]!.idle_power_w).toBe(5);
  });

  it('4 ranks on 4 distinct GPUs: every GPU counts', () => {
    const ranks = [0, 1, 2, 3].map((r) =>
      rawRank({ rank: r, world_size: 4, deviceId: `cuda:${r}`, readings: [reading(gpu('node-1', r), 'gpu', 100 + r)] }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(406);
    expect(t.energy_by_scope_j.gpu).toBe(406);
    expect(t.energy_mean_per_process_j).toBe(101.5);
    expect(t.energy_estimated).toBe(false);
  });

  it('4 ranks where two pairs share a GPU: each GPU once (largest reading kept)', () => {
    const ranks = [0, 1, 2, 3].map((r) =>
      rawRank({
        rank: r,
        world_size: 4,
        deviceId: `cuda:${r % 2}`,
        readings: [reading(gpu('node-1', r % 2), 'gpu', 100 + r)],
      }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(102 + 103);
    expect(t.energy_mean_per_process_j).toBe(205 / 4);
  });

  it('4 ranks on 2 hosts, machine-level CPU/RAM on each local rank 0: 2 GPUs + 2 CPUs + 2 RAMs', () => {
    const ranks = [0, 1, 2, 3].map((r) => {
      const host = `node-${r < 2 ? 'a' : 'b'}`;
      const local = r % 2;
      const machineLevel = local === 0 ? [reading(`${host}/cpu`, 'cpu', 50 + r), reading(`${host}/ram`, 'ram', 5)] : [];
      return rawRank({
        rank: r,
        world_size: 4,
        host,
        deviceId: 'cuda:0',
        uuid: `GPU-${host}`,
        readings: [reading(gpu(host, 0), 'gpu', 200), ...machineLevel],
      });
    });
    const t = aggregateRanks(ranks);
    expect(t.energy_by_scope_j).toEqual({ gpu: 400, cpu: 50 + 52, ram: 10, machine: null });
    expect(t.energy_total_j).toBe(512);
    expect(t.peak_memory_by_device).toEqual({ 'node-a/GPU-node-a': 2000, 'node-b/GPU-node-b': 2000 });
  });

  it('same GPU index on two hosts are two devices (energy and memory)', () => {
    const ranks = [0, 1].map((r) =>
      rawRank({
        rank: r,
        host: `node-${r}`,
        deviceId: 'cuda:0',
        readings: [reading(gpu(`node-${r}`, 0), 'gpu', 50)],
        peak: 10,
      }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(100);
    expect(t.peak_memory_bytes).toBe(20);
    expect(Object.keys(t.peak_memory_by_device)).toEqual(['node-0/cuda:0', 'node-1/cuda:0']);
  });

  it("a whole-machine reading contains that host's components: they show in the split, not twice in the total", () => {
    const ranks = [
      rawRank({
        rank: 0,
        host: 'a',
        readings: [
          reading('a/machine', 'machine', 900),
          reading('a/gpu/GPU-0', 'gpu', 500),
          reading('a/cpu', 'cpu', 100),
        ],
      }),
      rawRank({ rank: 1, host: 'b', readings: [reading('b/gpu/GPU-0', 'gpu', 450)] }),
    ];
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(900 + 450);
    expect(t.energy_by_scope_j).toEqual({ gpu: 950, cpu: 100, ram: null, machine: 900 });
    expect(t.energy_counted_readings.map((r) => r.device_id)).toEqual(['a/machine', 'b/gpu/GPU-0']);
    expect(t.energy_readings).toHaveLength(4);
    expect(deriveMetrics(t).energy_machine_j).toBe(900);
  });

  it('estimated when any counted reading is modelled', () => {
    const ranks = [
      rawRank({ rank: 0, readings: [reading('n/gpu/A', 'gpu', 5)] }),
      rawRank({ rank: 1, readings: [reading('n/cpu', 'cpu', 5, true)] }),
    ];
    expect(aggregateRanks(ranks).energy_estimated).toBe(true);
  });
});

describe('other totals', () => {
  it('memory: per device the sum of its processes, max per process, kinds joined; null when unmeasured', () => {
    const ranks = [
      rawRank({ rank: 0, world_size: 3, deviceId: 'cuda:0', uuid: 'GPU-x', peak: 300 }),
      rawRank({ rank: 1, world_size: 3, deviceId: 'cuda:0', uuid: 'GPU-x', peak: 200 }),
      rawRank({ rank: 2, world_size: 3, deviceId: 'cuda:1', uuid: 'GPU-y', peak: null }),
    ];
    const t = aggregateRanks(ranks);
    expect(t.peak_memory_by_device).toEqual({ 'node-1/GPU-x': 500 });
    expect(t.peak_memory_bytes).toBe(500);
    expect(t.peak_memory_max_process_bytes).toBe(300);
    expect(t.peak_memory_kind).toBe('cuda_max_allocated');
    const none = aggregateRanks([rawRank({ rank: 0, world_size: 1, peak: null })]);
    expect([none.peak_memory_bytes, none.peak_memory_max_process_bytes, none.peak_memory_kind]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('FLOPs: 2·N·T estimate summed (null if any rank lacks it), quantized if any rank is', () => {
    const t = aggregateRanks([
      rawRank({ rank: 0, flops: [1, 2], analytic: 10 }),
      rawRank({ rank: 1, flops: [3, 4], analytic: 20, quantized: true }),
    ]);
    expect([t.flops_prefill, t.flops_decode, t.flops_total, t.flops_analytic_2nt]).toEqual([4, 6, 10, 30]);
    expect(t.flops_quantized).toBe(true);
    expect(aggregateRanks([rawRank({ rank: 0, analytic: 10 }), rawRank({ rank: 1 })]).flops_analytic_2nt).toBeNull();
  });

  it('throttling: null when no rank could tell, else any rank; reasons merged', () => {
    expect(aggregateRanks([rawRank({ rank: 0 }), rawRank({ rank: 1 })]).throttling_observed).toBeNull();
    const t = aggregateRanks([
      rawRank({ rank: 0, throttling: { observed: false, reasons: [] } }),
      rawRank({ rank: 1, throttling: { observed: true, reasons: ['sw_power_cap', 'hw_slowdown'] } }),
    ]);
    expect(t.throttling_observed).toBe(true);
    expect(t.throttling_reasons).toEqual(['hw_slowdown', 'sw_power_cap']);
  });

  it('backends joined, samples summed, the carbon intensity of the lowest rank that has one', () => {
    const t = aggregateRanks([
      rawRank({ rank: 1, backend: 'nvml', samples: 10, intensity: 300 }),
      rawRank({ rank: 0, backend: 'rapl', samples: 12, intensity: null }),
    ]);
    expect(t.energy_backend).toBe('nvml+rapl');
    expect(t.energy_samples).toBe(22);
    expect(t.carbon_intensity_g_per_kwh).toBe(300);
  });

  it('batches are listed in rank order whatever the input order', () => {
    const t = aggregateRanks([rawRank({ rank: 1, latencies: [2] }), rawRank({ rank: 0, latencies: [1] })]);
    expect(t.batch_latencies_s).toEqual([1, 2]);
  });
});

describe('bad input', () => {
  it.each([
    ['NO_RANKS', [], /no rank measurements/],
    ['DUPLICATE_RANK', [rawRank({ rank: 0 }), rawRank({ rank: 0 })], /rank 0 given twice/],
    [
      'WORLD_SIZE_MISMATCH',
      [rawRank({ rank: 0, world_size: 2 }), rawRank({ rank: 1, world_size: 3 })],
      /rank 1 has world_size 3/,
    ],
    ['RANK_OUT_OF_RANGE', [rawRank({ rank: 2, world_size: 2 })], /rank 2 is not below world_size 2/],
  ])('%s', (code, ranks, message) => {
    let error: unknown;
    try {
      aggregateRanks(ranks);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MetricsError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as MetricsError).code).toBe(code);
    expect((error as Error).message).toMatch(message);
  });
});
