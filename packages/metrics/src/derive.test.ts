import { describe, expect, it } from 'vitest';
import { rawRank, reading } from './__fixtures__/raw.js';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { MetricsError } from './errors.js';

// Worked by hand (README "Worked example"): two CPU ranks on one host. Both report the same
// machine-level CPU and RAM readings (30 J, idle 8 W; 6 J, idle 2 W). The original summed them
// (72 J); the right total counts each device once: 36 J.
// Each reading covered 2.5 s (its active_s): idle is subtracted over that.
const shared = [reading('node-1/cpu', 'cpu', 30, true, 8, 2.5), reading('node-1/ram', 'ram', 6, true, 2, 2.5)];
const rank0 = rawRank({
  rank: 0,
  prompts: 4,
  input: 100,
  output: 64,
  duration: 2.0,
  flops: [1e9, 3e9],
  peak: 1000,
  readings: shared,
  intensity: 400,
  batches: [
    { latency_s: 0.5, ttft_s: 0.1, generated_steps: 5 },
    { latency_s: 0.7, ttft_s: 0.1, generated_steps: 4 },
  ],
});
const rank1 = rawRank({
  rank: 1,
  prompts: 4,
  input: 80,
  output: 60,
  duration: 2.5,
  flops: [1e9, 2e9],
  peak: 1500,
  readings: shared,
  intensity: 400,
  batches: [
    { latency_s: 0.9, ttft_s: 0.2, generated_steps: 8 },
    { latency_s: 0.4, ttft_s: null, generated_steps: 4 },
  ],
});

describe('aggregateRanks + deriveMetrics: the worked example', () => {
  const t = aggregateRanks([rank0, rank1]);
  const m = deriveMetrics(t, { pue: 1.2 });

  it('sums tokens over ranks and counts each device once', () => {
    expect(t.num_prompts).toBe(8);
    expect(t.input_tokens).toBe(180);
    expect(t.output_tokens).toBe(124);
    expect(t.energy_total_j).toBe(36);
    expect(t.energy_by_scope_j).toEqual({ gpu: null, cpu: 30, ram: 6, machine: null });
    expect(t.energy_mean_per_process_j).toBe(18);
    expect(t.window_s).toBe(2.5);
    expect(t.energy_estimated).toBe(true);
  });

  it('peak memory: two processes on one device hold their own memory, so the device peak is their sum', () => {
    expect(t.peak_memory_by_device).toEqual({ 'node-1/cpu': 2500 });
    expect(t.peak_memory_bytes).toBe(2500);
    expect(t.peak_memory_max_process_bytes).toBe(1500);
    expect(t.peak_memory_kind).toBe('rss_peak');
  });

  it('throughput: tokens and prompts over the measured window', () => {
    expect(m.total_time_s).toBe(2.5);
    expect(m.throughput_tokens_per_s).toBeCloseTo(49.6, 12);
    expect(m.throughput_queries_per_s).toBeCloseTo(3.2, 12);
  });

  it('latency per batch over every rank: mean, p50, p90, p99, min, max', () => {
    expect(m.latency_mean_s).toBeCloseTo(0.625, 12);
    expect(m.latency_p50_s).toBeCloseTo(0.6, 12);
    expect(m.latency_p90_s).toBeCloseTo(0.84, 12);
    expect(m.latency_p99_s).toBeCloseTo(0.894, 12);
    expect(m.latency_min_s).toBe(0.4);
    expect(m.latency_max_s).toBe(0.9);
  });

  it('TTFT over the 3 batches that measured one; time per output token = (latency − ttft)/(steps − 1)', () => {
    expect(m.ttft_mean_s).toBeCloseTo(0.4 / 3, 12);
    expect(m.ttft_p50_s).toBeCloseTo(0.1, 12);
    expect(m.ttft_p90_s).toBeCloseTo(0.18, 12);
    expect(m.ttft_p99_s).toBeCloseTo(0.198, 12);
    expect([m.ttft_min_s, m.ttft_max_s]).toEqual([0.1, 0.2]);
    // (0.5−0.1)/4 = 0.1, (0.7−0.1)/3 = 0.2, (0.9−0.2)/7 = 0.1
    expect(m.time_per_output_token_mean_s).toBeCloseTo(0.4 / 3, 12);
    expect(m.time_per_output_token_p50_s).toBeCloseTo(0.1, 12);
    expect(m.time_per_output_token_p90_s).toBeCloseTo(0.18, 12);
    expect(m.time_per_output_token_max_s).toBeCloseTo(0.2, 12);
  });

  it('energy, efficiency and emissions', () => {
    expect(m.energy_total_kwh).toBeCloseTo(1e-5, 15);
    expect([m.energy_gpu_j, m.energy_cpu_j, m.energy_ram_j, m.energy_machine_j]).toEqual([null, 30, 6, null]); // no GPU reading: not 0
    expect(m.energy_per_token_j).toBeCloseTo(36 / 124, 12);
    expect(m.energy_per_token_j).toBeCloseTo(0.2903226, 7);
    expect(m.tokens_per_j).toBeCloseTo(124 / 36, 12);
    expect(m.queries_per_kwh).toBeCloseTo(800_000, 6);
    expect(m.wh_per_1k_queries).toBeCloseTo(1.25, 12);
    expect(m.pue).toBe(1.2);
    expect(m.carbon_intensity_g_per_kwh).toBe(400);
    expect(m.emissions_kg).toBeCloseTo(4.8e-6, 18); // 1e-5 kWh × 1.2 × 400 g/kWh / 1000
  });

  it('idle-adjusted energy: per reading, max(0, E − P_idle·active_s): (30 − 8×2.5) + (6 − 2×2.5) = 11 J', () => {
    expect(m.energy_adjusted_j).toBeCloseTo(11, 12);
    expect(m.idle_power_w).toBe(10);
    const whole = deriveMetrics(t, { idle_power_w: 12 }); // an explicit total idle power wins: 36 − 12×2.5
    expect(whole.energy_adjusted_j).toBeCloseTo(6, 12);
    expect(whole.idle_power_w).toBe(12);
  });

  it('FLOPs: prefill + decode summed over ranks, per generated token and per joule', () => {
    expect([m.flops_prefill, m.flops_decode, m.flops_total]).toEqual([2e9, 5e9, 7e9]);
    expect(m.flops_per_token).toBeCloseTo(7e9 / 124, 3);
    expect(m.flops_per_j).toBeCloseTo(7e9 / 36, 3);
    expect(m.flops_method).toBe('analytic');
    expect(m.flops_quantized).toBe(false);
    expect(m.flops_analytic_2nt).toBeNull();
  });
});

describe('deriveMetrics options and edge cases', () => {
  const t = aggregateRanks([rank0, rank1]);

  it('the carbon intensity of the options (the config) wins over the backend one', () => {
    const m = deriveMetrics(t, { carbon_intensity_g_per_kwh: 50 });
    expect(m.carbon_intensity_g_per_kwh).toBe(50);
    expect(m.emissions_kg).toBeCloseTo(5e-7, 18); // 1e-5 × 1 × 50 / 1000
    expect(deriveMetrics(t, { carbon_intensity_g_per_kwh: null }).carbon_intensity_g_per_kwh).toBe(400);
  });

  it('no intensity anywhere: emissions are null, not 0', () => {
    const m = deriveMetrics(
      aggregateRanks([rawRank({ rank: 0, world_size: 1, readings: [reading('h/cpu', 'cpu', 5)] })]),
    );
    expect(m.carbon_intensity_g_per_kwh).toBeNull();
    expect(m.emissions_kg).toBeNull();
  });

  it.each([
    ['pue', { pue: 0.9 }],
    ['pue', { pue: Number.NaN }],
    ['idle_power_w', { idle_power_w: -1 }],
    ['carbon_intensity_g_per_kwh', { carbon_intensity_g_per_kwh: Number.POSITIVE_INFINITY }],
  ])('rejects a bad option %s', (name, options) => {
    expect(() => deriveMetrics(t, options)).toThrow(MetricsError);
    expect(() => deriveMetrics(t, options)).toThrow(new RegExp(`option ${name}`));
  });

  it('idle above the measured energy clamps at 0 per reading', () => {
    const r = rawRank({
      rank: 0,
      world_size: 1,
      duration: 10,
      readings: [reading('h/gpu/A', 'gpu', 500, false, 60, 10), reading('h/cpu', 'cpu', 100, false, 5, 10)],
    });
    const m = deriveMetrics(aggregateRanks([r]));
    expect(m.energy_adjusted_j).toBe(0 + 50); // max(0, 500 − 600) + max(0, 100 − 50)
    expect(deriveMetrics(aggregateRanks([r]), { idle_power_w: 100 }).energy_adjusted_j).toBe(0);
  });

  it('a counted reading without an idle power enters unadjusted; none with one: null', () => {
    const mixed = rawRank({
      rank: 0,
      world_size: 1,
      duration: 2,
      readings: [reading('h/gpu/A', 'gpu', 100, false, 10, 2), reading('h/ram', 'ram', 7, false, null, 2)],
    });
    expect(deriveMetrics(aggregateRanks([mixed])).energy_adjusted_j).toBe(80 + 7);
    const none = rawRank({ rank: 0, world_size: 1, readings: [reading('h/ram', 'ram', 7)] });
    expect(deriveMetrics(aggregateRanks([none])).energy_adjusted_j).toBeNull();
    expect(deriveMetrics(aggregateRanks([none])).idle_power_w).toBeNull();
  });

  it('no readings: energy is null, and so is everything divided by it', () => {
    const m = deriveMetrics(aggregateRanks([rawRank({ rank: 0, world_size: 1 })]));
    for (const k of [
      'energy_total_j',
      'energy_total_kwh',
      'tokens_per_j',
      'energy_per_token_j',
      'queries_per_kwh',
      'wh_per_1k_queries',
      'flops_per_j',
      'emissions_kg',
      'energy_gpu_j',
      'energy_adjusted_j',
      'energy_mean_per_process_j',
    ] as const) {
      expect(m[k], k).toBeNull();
    }
  });

  it('zero energy and zero tokens give null ratios, never NaN or Infinity', () => {
    const r = rawRank({
      rank: 0,
      world_size: 1,
      output: 0,
      prompts: 0,
      duration: 0,
      latencies: [],
      readings: [reading('h/cpu', 'cpu', 0)],
    });
    const m = deriveMetrics(aggregateRanks([r]));
    for (const v of Object.values(m)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    expect(m.energy_total_j).toBe(0);
    expect(m.tokens_per_j).toBeNull();
    expect(m.energy_per_token_j).toBeNull();
    expect(m.flops_per_token).toBeNull();
    expect(m.throughput_tokens_per_s).toBeNull();
    expect(m.queries_per_kwh).toBeNull();
    expect(m.wh_per_1k_queries).toBeNull();
    expect(m.latency_mean_s).toBeNull();
    expect(m.ttft_mean_s).toBeNull();
  });
});

describe('idle subtraction per reading (issue 13, item 6)', () => {
  it("each reading's idle power times its own active_s, not the longest rank's window", () => {
    // GPU A's rank computed 2 s, GPU B's 3 s (T = 3 s); both idle at 50 W.
    const a = rawRank({
      rank: 0,
      duration: 2,
      deviceId: 'cuda:0',
      readings: [reading('h/gpu/A', 'gpu', 200, false, 50, 2)],
    });
    const b = rawRank({
      rank: 1,
      duration: 3,
      deviceId: 'cuda:1',
      readings: [reading('h/gpu/B', 'gpu', 300, false, 50, 3)],
    });
    const m = deriveMetrics(aggregateRanks([a, b]));
    expect(m.total_time_s).toBe(3);
    expect(m.energy_adjusted_j).toBe(200 - 50 * 2 + (300 - 50 * 3)); // 250 J; × T would give 200 J
    expect(m.idle_power_w).toBe(100);
  });

  it('a reader that paused for traffic waits subtracts idle only over its active spans', () => {
    const r = rawRank({
      rank: 0,
      world_size: 1,
      duration: 10,
      readings: [reading('h/gpu/A', 'gpu', 700, false, 60, 6)],
    });
    expect(deriveMetrics(aggregateRanks([r])).energy_adjusted_j).toBe(700 - 60 * 6);
  });
});

describe('no total without every device (issue 13, item 4)', () => {
  const gpu = (rank: number, j: number | null) =>
    rawRank({
      rank,
      duration: 2,
      deviceId: `cuda:${rank}`,
      flops: [1e9, 1e9],
      readings: [reading(`h/gpu/${rank}`, 'gpu', j, false, 30, 2)],
    });

  it('one rank without a reading: no total, no J/token, tokens/J, FLOPs/J; energy_complete false, the reason kept', () => {
    const t = aggregateRanks([gpu(0, 400), gpu(1, null)]);
    expect(t.energy_complete).toBe(false);
    expect(t.energy_missing).toEqual([{ rank: 1, device_id: 'h/gpu/1', scope: 'gpu', reason: 'not read (test)' }]);
    const m = deriveMetrics(t, { carbon_intensity_g_per_kwh: 400 });
    expect(m).toMatchObject({
      energy_complete: false,
      energy_total_j: null,
      energy_total_kwh: null,
      energy_gpu_j: null,
      energy_adjusted_j: null,
      energy_per_token_j: null,
      tokens_per_j: null,
      flops_per_j: null,
      queries_per_kwh: null,
      wh_per_1k_queries: null,
      emissions_kg: null,
      energy_mean_per_process_j: null,
    });
    expect(m.flops_total).toBe(4e9); // what was measured still stands
  });

  it('a rank that says it is incomplete refuses the total even when its readings are numbers', () => {
    const r1 = gpu(1, 300);
    const t = aggregateRanks([gpu(0, 400), { ...r1, energy: { ...r1.energy, complete: false } }]);
    expect(t.energy_complete).toBe(false);
    expect(t.energy_total_j).toBeNull();
  });

  it('every device read: complete and a total; nothing measured: null (not false)', () => {
    const m = deriveMetrics(aggregateRanks([gpu(0, 400), gpu(1, 300)]));
    expect(m).toMatchObject({ energy_complete: true, energy_total_j: 700 });
    expect(deriveMetrics(aggregateRanks([rawRank({ rank: 0, world_size: 1 })]))).toMatchObject({
      energy_complete: null,
      energy_total_j: null,
    });
  });

  it('the results row carries energy_complete', async () => {
    const { toResultRecord } = await import('./result-record.js');
    const id = {
      experiment_id: '1',
      config_name: 'c',
      model_name: 'm',
      suite: null,
      cycle_id: null,
      task_type: 't',
      num_processes: 2,
      batch_size: 1,
      precision: 'fp32',
      config_hash: 'h',
    };
    expect(toResultRecord(id, deriveMetrics(aggregateRanks([gpu(0, 400), gpu(1, null)])))).toMatchObject({
      energy_complete: false,
      energy_total_j: null,
      tokens_per_j: null,
    });
  });
});
