import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawRank, reading } from './__fixtures__/raw.js';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { distribution } from './numbers.js';
import type { EnergyReading, RawMeasurement } from './raw-measurement.js';
import { toResultRecord } from './result-record.js';
import { describeSample } from './statistics.js';

const close = (a: number | null, b: number | null, rel = 1e-9) => {
  if (a === null || b === null) return expect(a).toBe(b);
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(Math.abs(a), Math.abs(b), 1e-300));
};

// Zero, or a physical amount (from a microjoule up): subnormal joules would only test float underflow.
const energyJ = fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 1e7, noNaN: true }));
const batchArb = fc
  .record({
    latency_s: fc.double({ min: 0, max: 100, noNaN: true }),
    ttftShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    generated_steps: fc.integer({ min: 0, max: 64 }),
  })
  .map(({ latency_s, ttftShare, generated_steps }) => ({
    latency_s,
    ttft_s: ttftShare === null ? null : latency_s * ttftShare,
    generated_steps,
  }));
const readingArb = fc.record({
  device: fc.constantFrom('h/gpu/A', 'h/gpu/B', 'h/cpu', 'h/ram', 'g/gpu/A', 'g/machine'),
  energy_j: energyJ,
  estimated: fc.boolean(),
  idle: fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: null }),
});
const scopeOf = (device: string): EnergyReading['scope'] => device.split('/')[1] as EnergyReading['scope'];

/** 1–6 arbitrary valid ranks of one run; devices drawn from a small pool, so ranks often share them. */
const runArb = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.tuple(
    ...Array.from({ length: n }, (_, rank) =>
      fc
        .record({
          prompts: fc.integer({ min: 0, max: 1000 }),
          input: fc.integer({ min: 0, max: 1e6 }),
          output: fc.integer({ min: 0, max: 1e6 }),
          duration: fc.double({ min: 0, max: 1e4, noNaN: true }),
          batches: fc.array(batchArb, { maxLength: 6 }),
          prefill: fc.integer({ min: 0, max: 1e12 }),
          decode: fc.integer({ min: 0, max: 1e12 }),
          peak: fc.option(fc.integer({ min: 0, max: 1e11 }), { nil: null }),
          readings: fc.uniqueArray(readingArb, { maxLength: 4, selector: (r) => r.device }),
          intensity: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: null }),
          device: fc.constantFrom('cuda:0', 'cuda:1', 'cpu'),
        })
        .map((g) =>
          rawRank({
            rank,
            world_size: n,
            prompts: g.prompts,
            input: g.input,
            output: g.output,
            duration: g.duration,
            batches: g.batches,
            flops: [g.prefill, g.decode],
            peak: g.peak,
            intensity: g.intensity,
            deviceId: g.device,
            host: g.readings.some((r) => r.device.startsWith('g/')) ? 'g' : 'h',
            readings: g.readings.map((r) => reading(r.device, scopeOf(r.device), r.energy_j, r.estimated, r.idle)),
          }),
        ),
    ),
  ),
);
const optionsArb = fc.record({
  pue: fc.double({ min: 1, max: 3, noNaN: true }),
  carbon_intensity_g_per_kwh: fc.option(fc.double({ min: 0, max: 2000, noNaN: true }), { nil: null }),
  idle_power_w: fc.option(fc.double({ min: 0, max: 5000, noNaN: true }), { nil: null }),
});

describe('properties', () => {
  it('no output is ever NaN or ±Infinity (metrics and the CSV record)', () => {
    fc.assert(
      fc.property(runArb, optionsArb, (ranks, options) => {
        const m = deriveMetrics(aggregateRanks(ranks), options);
        const row = toResultRecord(
          {
            experiment_id: '1',
            config_name: 'c',
            model_name: 'm',
            suite: null,
            cycle_id: null,
            task_type: 't',
            num_processes: ranks.length,
            batch_size: 1,
            precision: 'fp32',
            config_hash: 'h',
          },
          m,
        );
        for (const v of [...Object.values(m), ...Object.values(row)]) {
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          else expect(['string', 'boolean', 'object']).toContain(typeof v); // null is an object
        }
        if (m.energy_adjusted_j !== null && m.energy_total_j !== null)
          expect(m.energy_adjusted_j).toBeLessThanOrEqual(m.energy_total_j * (1 + 1e-12));
      }),
    );
  });

  it('J/token × tokens = J, and tokens/J × J = tokens', () => {
    fc.assert(
      fc.property(runArb, (ranks) => {
        const m = deriveMetrics(aggregateRanks(ranks));
        if (m.energy_per_token_j === null) return;
        close(m.energy_per_token_j * m.total_output_tokens, m.energy_total_j, 1e-12);
        if (m.energy_total_j === 0)
          expect(m.tokens_per_j).toBeNull(); // tokens per zero joules: undefined
        else close(m.tokens_per_j! * m.energy_total_j!, m.total_output_tokens, 1e-12);
        close((m.energy_total_kwh! * 3_600_000) / m.total_output_tokens, m.energy_per_token_j, 1e-12);
      }),
    );
  });

  it('metrics and totals do not depend on the order of the ranks', () => {
    fc.assert(
      fc.property(
        runArb.chain((ranks) => fc.tuple(fc.constant(ranks), fc.shuffledSubarray(ranks, { minLength: ranks.length }))),
        ([ranks, shuffled]) => {
          expect(aggregateRanks(shuffled)).toEqual(aggregateRanks(ranks));
          expect(deriveMetrics(aggregateRanks(shuffled))).toEqual(deriveMetrics(aggregateRanks(ranks)));
        },
      ),
    );
  });

  it('describeSample never returns NaN or ±Infinity, and the CI contains the mean', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.double({ noNaN: false }), { nil: null })), (values) => {
        const s = describeSample(values);
        for (const v of Object.values(s)) if (v !== null) expect(Number.isFinite(v)).toBe(true);
        if (s.ci95_low !== null) expect(s.ci95_low).toBeLessThanOrEqual(s.mean!);
      }),
    );
  });
});

// ——— Splitting one run into ranks ———
// A run: D devices (energy, idle power, peak memory), a list of batches, prompt/token/FLOP counts.
// A split: k ≥ D ranks, rank r on device r mod D; batches, counts and each device's memory dealt
// out among ranks; every rank on a device reports that device's reading (some report a lower value,
// as a counter read a moment earlier would). Totals must be the run's, whatever the split.
interface Run {
  devices: { energy_j: number; idle: number | null; peak: number }[];
  batches: { latency_s: number; ttft_s: number | null; generated_steps: number }[];
  prompts: number;
  output: number;
  flops: number;
  window: number;
}

const splitArb = fc
  .record({
    devices: fc.array(
      fc.record({
        energy_j: fc.integer({ min: 0, max: 1e6 }),
        idle: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
        peak: fc.integer({ min: 0, max: 1e10 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    batches: fc.array(batchArb, { maxLength: 12 }),
    prompts: fc.integer({ min: 0, max: 10_000 }),
    output: fc.integer({ min: 0, max: 1e6 }),
    flops: fc.integer({ min: 0, max: 1e13 }),
    window: fc.double({ min: 0.001, max: 1e4, noNaN: true }),
  })
  .chain((run: Run) =>
    fc.record({
      run: fc.constant(run),
      extra: fc.integer({ min: 0, max: 5 }),
      seed: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
    }),
  );

/** Deal `total` into `k` non-negative integer parts using the given random draws. */
function deal(total: number, k: number, draws: number[]): number[] {
  const cuts = draws
    .slice(0, k - 1)
    .map((d) => d % (total + 1))
    .sort((a, b) => a - b);
  return [...cuts, total].map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
}

function split(run: Run, extra: number, seed: number[]): RawMeasurement[] {
  const D = run.devices.length;
  const k = D + extra;
  const prompts = deal(run.prompts, k, seed);
  const output = deal(run.output, k, seed.slice(8));
  const flops = deal(run.flops, k, seed.slice(16));
  const perRankPeak = Array.from({ length: k }, () => 0);
  run.devices.forEach((d, dev) => {
    const on = Array.from({ length: k }, (_, r) => r).filter((r) => r % D === dev);
    deal(d.peak, on.length, seed.slice(24 + dev * 8)).forEach((p, j) => {
      perRankPeak[on[j]!] = p;
    });
  });
  return Array.from({ length: k }, (_, r) => {
    const dev = r % D;
    const d = run.devices[dev]!;
    const first = r < D; // the first rank on a device reads it last: the full value; others read less
    return rawRank({
      rank: r,
      world_size: k,
      prompts: prompts[r]!,
      output: output[r]!,
      flops: [flops[r]!, 0],
      deviceId: `cuda:${dev}`,
      duration: first ? run.window : run.window * 0.99,
      peak: perRankPeak[r]!,
      batches: run.batches.filter((_, i) => (i + (seed[63] ?? 0)) % k === r),
      readings: [
        reading(
          `h/gpu/${dev}`,
          'gpu',
          first ? d.energy_j : d.energy_j * 0.9,
          false,
          d.idle,
          first ? run.window : run.window * 0.99,
        ),
      ],
    });
  });
}

describe('splitting a run into ranks never changes totals', () => {
  it('tokens, prompts, FLOPs, energy (each device once), idle-adjusted energy, peak memory, window, latency', () => {
    fc.assert(
      fc.property(splitArb, ({ run, extra, seed }) => {
        const t = aggregateRanks(split(run, extra, seed));
        const m = deriveMetrics(t);
        expect(t.num_prompts).toBe(run.prompts);
        expect(t.output_tokens).toBe(run.output);
        expect(t.flops_total).toBe(run.flops);
        const energy = run.devices.reduce((s, d) => s + d.energy_j, 0);
        expect(t.energy_total_j).toBe(energy);
        expect(t.energy_readings).toHaveLength(run.devices.length);
        expect(t.peak_memory_bytes).toBe(run.devices.reduce((s, d) => s + d.peak, 0));
        expect(t.window_s).toBe(run.window);
        const withIdle = run.devices.filter((d) => d.idle !== null);
        const adjusted = run.devices.reduce(
          (s, d) => s + (d.idle === null ? d.energy_j : Math.max(0, d.energy_j - d.idle * run.window)),
          0,
        );
        close(m.energy_adjusted_j, withIdle.length ? adjusted : null);
        const all = distribution(run.batches.map((b) => b.latency_s));
        close(m.latency_mean_s, all.mean, 1e-12);
        expect([m.latency_p50_s, m.latency_p99_s, m.latency_min_s, m.latency_max_s]).toEqual([
          all.p50,
          all.p99,
          all.min,
          all.max,
        ]);
      }),
    );
  });
});
