import { describe, expect, it } from 'vitest';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { rawRank, reading } from './__fixtures__/raw.js';

// Worked by hand (see README "Worked example"): two ranks on one host. Both report the same
// machine-level CPU and RAM readings (30 J + 6 J). The original summed them (72 J); the right
// total counts each device once: 36 J.
const shared = [reading('node-1/cpu', 'cpu', 30, true), reading('node-1/ram', 'ram', 6, true)];
const rank0 = rawRank({
  rank: 0, prompts: 4, input: 100, output: 64, duration: 2.0, latencies: [0.5, 0.7],
  flops: [1e9, 3e9], peak: 1000, readings: shared, intensity: 400,
});
const rank1 = rawRank({
  rank: 1, prompts: 4, input: 80, output: 60, duration: 2.5, latencies: [0.9, 0.4],
  flops: [1e9, 2e9], peak: 1500, readings: shared, intensity: 400,
});

describe('aggregateRanks + deriveMetrics: the worked example', () => {
  const t = aggregateRanks([rank0, rank1]);
  const m = deriveMetrics(t, { idle_power_w: 10 });

  it('sums tokens over ranks and counts each device once', () => {
    expect(t.num_prompts).toBe(8);
    expect(t.input_tokens).toBe(180);
    expect(t.output_tokens).toBe(124);
    expect(t.energy_total_j).toBe(36);
    expect(t.energy_by_scope_j).toEqual({ gpu: null, cpu: 30, ram: 6, machine: null });
    expect(t.energy_mean_per_process_j).toBe(18);
    expect(t.peak_memory_bytes).toBe(1500);
    expect(t.window_s).toBe(2.5);
    expect(t.energy_estimated).toBe(true);
  });

  it('derives throughput, latency and efficiency', () => {
    expect(m.throughput_tokens_per_s).toBeCloseTo(49.6, 12);
    expect(m.throughput_queries_per_s).toBeCloseTo(3.2, 12);
    expect(m.latency_mean_s).toBeCloseTo(0.625, 12);
    expect(m.latency_p50_s).toBeCloseTo(0.6, 12);
    expect(m.latency_p99_s).toBeCloseTo(0.894, 12);
    expect(m.energy_total_kwh).toBeCloseTo(1e-5, 15);
    expect(m.energy_per_token_j).toBeCloseTo(36 / 124, 12);
    expect([m.energy_gpu_j, m.energy_cpu_j, m.energy_ram_j]).toEqual([null, 30, 6]); // no GPU reading: not 0
    expect(m.tokens_per_j).toBeCloseTo(124 / 36, 12);
    expect(m.flops_total).toBe(7e9);
    expect(m.flops_per_j).toBeCloseTo(7e9 / 36, 3);
    expect(m.queries_per_kwh).toBeCloseTo(800_000, 6);
    expect(m.wh_per_1k_queries).toBeCloseTo(1.25, 12);
    expect(m.energy_adjusted_j).toBeCloseTo(36 - 10 * 2.5, 12);
    expect(m.emissions_kg).toBeCloseTo(4e-6, 15);
  });
});

describe('device accounting', () => {
  it('4 ranks on 4 distinct GPUs: every GPU counts', () => {
    const ranks = [0, 1, 2, 3].map((r) =>
      rawRank({ rank: r, world_size: 4, deviceId: `cuda:${r}`, readings: [reading(`node-1/gpu/GPU-${r}`, 'gpu', 100 + r)] }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(406);
    expect(t.energy_by_scope_j.gpu).toBe(406);
    expect(t.energy_mean_per_process_j).toBe(101.5);
    expect(t.energy_estimated).toBe(false);
  });

  it('4 ranks where two pairs share a GPU: each GPU once (largest reading kept)', () => {
    const ranks = [0, 1, 2, 3].map((r) =>
      rawRank({ rank: r, world_size: 4, deviceId: `cuda:${r % 2}`, readings: [reading(`node-1/gpu/GPU-${r % 2}`, 'gpu', 100 + r)] }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(102 + 103);
  });

  it('same GPU index on two hosts are two devices', () => {
    const ranks = [0, 1].map((r) =>
      rawRank({ rank: r, host: `node-${r}`, readings: [reading(`node-${r}/gpu/GPU-0`, 'gpu', 50)], peak: 10 }),
    );
    const t = aggregateRanks(ranks);
    expect(t.energy_total_j).toBe(100);
    expect(t.peak_memory_bytes).toBe(20);
  });

  it('no readings: energy is null, and so is everything divided by it', () => {
    const m = deriveMetrics(aggregateRanks([rawRank({ rank: 0, world_size: 1 })]));
    expect(m.energy_total_j).toBeNull();
    expect(m.tokens_per_j).toBeNull();
    expect(m.energy_per_token_j).toBeNull();
    expect(m.queries_per_kwh).toBeNull();
    expect(m.emissions_kg).toBeNull();
    expect(m.energy_gpu_j).toBeNull();
  });

  it('zero energy and zero tokens give null ratios, never NaN or Infinity', () => {
    const r = rawRank({ rank: 0, world_size: 1, output: 0, duration: 0, readings: [reading('h/cpu', 'cpu', 0)] });
    const m = deriveMetrics(aggregateRanks([r]));
    for (const v of Object.values(m)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    expect(m.tokens_per_j).toBeNull();
    expect(m.throughput_tokens_per_s).toBeNull();
  });

  it('rejects a rank given twice', () => {
    expect(() => aggregateRanks([rawRank({ rank: 0 }), rawRank({ rank: 0 })])).toThrow(/rank 0 given twice/);
  });
});
