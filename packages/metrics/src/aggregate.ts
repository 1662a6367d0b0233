import { accountEnergy, type EnergyScope } from './energy-accounting.js';
import { MetricsError } from './errors.js';
import { ratio, sum } from './numbers.js';
import type { BatchMeasurement, EnergyReading, RawMeasurement } from './raw-measurement.js';

export type { EnergyScope } from './energy-accounting.js';

/** Totals of one experiment over all its ranks, each device counted once. */
export interface ProcessTotals {
  world_size: number;
  num_prompts: number;
  input_tokens: number;
  output_tokens: number;
  /** The measured window T (s): the longest rank window (ranks start and stop at barriers). */
  window_s: number;
  batch_latencies_s: number[];
  /** Every batch of every rank, in rank order. */
  batches: BatchMeasurement[];
  flops_prefill: number;
  flops_decode: number;
  flops_total: number;
  /** Σ of the ranks' 2·N·tokens estimates; null when a rank has none. */
  flops_analytic_2nt: number | null;
  /** "analytic", "flop_counter", or both joined with "+". */
  flops_method: string;
  /** True when a rank's model was quantized: its FLOPs are flagged, not trusted. */
  flops_quantized: boolean;
  /** Σ over devices of each device's peak; null when no rank measured memory. */
  peak_memory_bytes: number | null;
  /**
   * Peak per device (`host/uuid`, else `host/device id`): Σ of the peaks of the processes on that
   * device (each process holds its own memory; an upper bound when their peaks do not coincide).
   */
  peak_memory_by_device: Record<string, number>;
  /** The largest single-process peak; null when no rank measured memory. */
  peak_memory_max_process_bytes: number | null;
  /** The ranks' memory kinds joined with "+" (e.g. "cuda_max_allocated"); null when not measured. */
  peak_memory_kind: string | null;
  /** Readings after de-duplication: one per (device_id, scope). */
  energy_readings: EnergyReading[];
  /** The de-duplicated readings that make up `energy_total_j` (see `accountEnergy`). */
  energy_counted_readings: EnergyReading[];
  /** Joules per scope; null for a scope no reading covered. */
  energy_by_scope_j: Record<EnergyScope, number | null>;
  /** Null when no backend produced a reading (energy not measured), or when `energy_complete` is false. */
  energy_total_j: number | null;
  /** False when a rank could not read one of its devices (see `energy_missing`); null when nothing was measured. */
  energy_complete: boolean | null;
  /** Devices that could not be read: rank, device, scope and the worker's reason. */
  energy_missing: Array<{ rank: number; device_id: string; scope: EnergyScope; reason: string }>;
  /** energy_total_j / number of ranks: one process's share; null when energy was not measured. */
  energy_mean_per_process_j: number | null;
  energy_estimated: boolean;
  energy_backend: string;
  /** Σ power samples over ranks; null when no rank polled. */
  energy_samples: number | null;
  carbon_intensity_g_per_kwh: number | null;
  /** Whether any rank saw clock throttling; null when no rank could tell. */
  throttling_observed: boolean | null;
  throttling_reasons: string[];
}

function checkRanks(ranks: readonly RawMeasurement[]): RawMeasurement[] {
  if (ranks.length === 0) throw new MetricsError('aggregateRanks: no rank measurements', 'NO_RANKS');
  const worldSize = ranks[0]!.world_size;
  const seen = new Set<number>();
  for (const r of ranks) {
    if (seen.has(r.rank)) throw new MetricsError(`aggregateRanks: rank ${r.rank} given twice`, 'DUPLICATE_RANK');
    seen.add(r.rank);
    if (r.world_size !== worldSize) {
      throw new MetricsError(
        `aggregateRanks: rank ${r.rank} has world_size ${r.world_size}, rank ${ranks[0]!.rank} has ${worldSize}`,
        'WORLD_SIZE_MISMATCH',
      );
    }
    if (r.rank >= r.world_size)
      throw new MetricsError(
        `aggregateRanks: rank ${r.rank} is not below world_size ${r.world_size}`,
        'RANK_OUT_OF_RANGE',
      );
  }
  return [...ranks].sort((a, b) => a.rank - b.rank);
}

const joined = (values: readonly string[]) => [...new Set(values)].sort().join('+');

/**
 * Aggregate per-rank raw measurements (any order; the result does not depend on it). Tokens,
 * prompts and FLOPs are summed over ranks; each energy device is counted once; the window is the
 * longest rank window.
 */
export function aggregateRanks(input: readonly RawMeasurement[]): ProcessTotals {
  const ranks = checkRanks(input);
  const energy = accountEnergy(ranks);

  const peak_memory_by_device: Record<string, number> = {};
  const peaks: number[] = [];
  for (const r of ranks) {
    if (r.memory.peak_bytes === null) continue;
    const key = `${r.host}/${r.device.uuid ?? r.device.id}`;
    peak_memory_by_device[key] = (peak_memory_by_device[key] ?? 0) + r.memory.peak_bytes;
    peaks.push(r.memory.peak_bytes);
  }
  const withMemory = ranks.filter((r) => r.memory.peak_bytes !== null);
  const analytic = ranks.map((r) => r.flops.analytic_2nt);
  const throttling = ranks.map((r) => r.energy.throttling).filter((t) => t !== null);
  const samples = ranks.map((r) => r.energy.samples).filter((s) => s !== null);

  return {
    world_size: ranks[0]!.world_size,
    num_prompts: sum(ranks.map((r) => r.tokens.num_prompts)),
    input_tokens: sum(ranks.map((r) => r.tokens.input_tokens)),
    output_tokens: sum(ranks.map((r) => r.tokens.output_tokens)),
    window_s: Math.max(...ranks.map((r) => r.window.duration_s)),
    batch_latencies_s: ranks.flatMap((r) => r.batches.map((b) => b.latency_s)),
    batches: ranks.flatMap((r) => r.batches),
    flops_prefill: sum(ranks.map((r) => r.flops.prefill)),
    flops_decode: sum(ranks.map((r) => r.flops.decode)),
    flops_total: sum(ranks.map((r) => r.flops.total)),
    flops_analytic_2nt: analytic.some((a) => a === null) ? null : sum(analytic as number[]),
    flops_method: joined(ranks.map((r) => r.flops.method)),
    flops_quantized: ranks.some((r) => r.flops.quantized),
    peak_memory_bytes: peaks.length ? sum(Object.values(peak_memory_by_device)) : null,
    peak_memory_by_device,
    peak_memory_max_process_bytes: peaks.length ? Math.max(...peaks) : null,
    peak_memory_kind: withMemory.length ? joined(withMemory.map((r) => r.memory.kind)) : null,
    energy_readings: energy.readings,
    energy_counted_readings: energy.counted,
    energy_by_scope_j: energy.by_scope_j,
    energy_total_j: energy.total_j,
    energy_complete: energy.complete,
    energy_missing: energy.missing,
    energy_mean_per_process_j: ratio(energy.total_j, ranks.length),
    energy_estimated: energy.estimated,
    energy_backend: joined(ranks.map((r) => r.energy.backend)),
    energy_samples: samples.length ? sum(samples) : null,
    carbon_intensity_g_per_kwh:
      ranks.find((r) => r.energy.carbon_intensity_g_per_kwh !== null)?.energy.carbon_intensity_g_per_kwh ?? null,
    throttling_observed: throttling.length ? throttling.some((t) => t.observed) : null,
    throttling_reasons: [...new Set(throttling.flatMap((t) => t.reasons))].sort(),
  };
}
