import type { BatchMeasurement, EnergyReading, RawMeasurement } from './raw-measurement.js';
import { sum } from './numbers.js';

export type EnergyScope = EnergyReading['scope'];

/** Totals of one experiment over all its ranks, each device counted once. */
export interface ProcessTotals {
  world_size: number;
  num_prompts: number;
  input_tokens: number;
  output_tokens: number;
  /** The measured window: the longest rank window (ranks start and stop at barriers). */
  window_s: number;
  batch_latencies_s: number[];
  batches: BatchMeasurement[];
  flops_prefill: number;
  flops_decode: number;
  flops_total: number;
  /** Sum over devices of each device's peak; null when no rank measured memory. */
  peak_memory_bytes: number | null;
  peak_memory_by_device: Record<string, number>;
  /** Readings after de-duplication: one per (device_id, scope). */
  energy_readings: EnergyReading[];
  /** Joules per scope; null for a scope no reading covered. */
  energy_by_scope_j: Record<EnergyScope, number | null>;
  /** Null when no backend produced a reading (energy not measured). */
  energy_total_j: number | null;
  /** Mean over ranks of the energy each rank reported itself (after de-duplication). */
  energy_mean_per_process_j: number | null;
  energy_estimated: boolean;
  energy_backend: string;
  carbon_intensity_g_per_kwh: number | null;
}

const deviceKey = (rank: RawMeasurement) => `${rank.host}/${rank.device.uuid ?? rank.device.id}`;

/**
 * Aggregate per-rank raw measurements. Tokens, prompts and FLOPs are summed over ranks; energy
 * readings that name the same device and scope (two ranks reporting one GPU, or one machine-level
 * tracker per process) are counted once, keeping the largest reading.
 */
export function aggregateRanks(ranks: readonly RawMeasurement[]): ProcessTotals {
  if (ranks.length === 0) throw new RangeError('aggregateRanks: no rank measurements');
  const seen = new Set<number>();
  for (const r of ranks) {
    if (seen.has(r.rank)) throw new RangeError(`aggregateRanks: rank ${r.rank} given twice`);
    seen.add(r.rank);
  }

  const byDevice = new Map<string, EnergyReading & { rank: number }>();
  for (const r of ranks) {
    for (const reading of r.energy.readings) {
      const key = `${reading.scope}|${reading.device_id}`;
      const prev = byDevice.get(key);
      if (!prev || reading.energy_j > prev.energy_j || (reading.energy_j === prev.energy_j && r.rank < prev.rank)) {
        byDevice.set(key, { ...reading, rank: r.rank });
      }
    }
  }
  const kept = [...byDevice.values()].sort((a, b) => (a.device_id + a.scope < b.device_id + b.scope ? -1 : 1));
  const energy_by_scope_j: Record<EnergyScope, number | null> = { gpu: null, cpu: null, ram: null, machine: null };
  for (const r of kept) energy_by_scope_j[r.scope] = (energy_by_scope_j[r.scope] ?? 0) + r.energy_j;
  const measured = kept.length > 0;
  const perRank = ranks.map((r) => sum(kept.filter((k) => k.rank === r.rank).map((k) => k.energy_j)));

  const peak_memory_by_device: Record<string, number> = {};
  for (const r of ranks) {
    if (r.memory.peak_bytes === null) continue;
    const key = deviceKey(r);
    peak_memory_by_device[key] = Math.max(peak_memory_by_device[key] ?? 0, r.memory.peak_bytes);
  }
  const peaks = Object.values(peak_memory_by_device);
  const backends = [...new Set(ranks.map((r) => r.energy.backend))].sort();

  return {
    world_size: Math.max(...ranks.map((r) => r.world_size)),
    num_prompts: sum(ranks.map((r) => r.tokens.num_prompts)),
    input_tokens: sum(ranks.map((r) => r.tokens.input_tokens)),
    output_tokens: sum(ranks.map((r) => r.tokens.output_tokens)),
    window_s: Math.max(...ranks.map((r) => r.window.duration_s)),
    batch_latencies_s: ranks.flatMap((r) => r.batches.map((b) => b.latency_s)),
    batches: ranks.flatMap((r) => r.batches),
    flops_prefill: sum(ranks.map((r) => r.flops.prefill)),
    flops_decode: sum(ranks.map((r) => r.flops.decode)),
    flops_total: sum(ranks.map((r) => r.flops.total)),
    peak_memory_bytes: peaks.length ? sum(peaks) : null,
    peak_memory_by_device,
    energy_readings: kept.map(({ rank: _rank, ...reading }) => reading),
    energy_by_scope_j,
    energy_total_j: measured ? sum(kept.map((k) => k.energy_j)) : null,
    energy_mean_per_process_j: measured ? sum(perRank) / ranks.length : null,
    energy_estimated: kept.some((k) => k.estimated) || ranks.some((r) => r.energy.estimated && r.energy.readings.length > 0),
    energy_backend: backends.join('+'),
    carbon_intensity_g_per_kwh: ranks.find((r) => r.energy.carbon_intensity_g_per_kwh !== null)?.energy.carbon_intensity_g_per_kwh ?? null,
  };
}
