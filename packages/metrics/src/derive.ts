import type { ProcessTotals } from './aggregate.js';
import { JOULES_PER_KWH, JOULES_PER_WH, mean, percentile, ratio } from './numbers.js';

export interface DeriveOptions {
  /** Idle power of the measured devices (W); gives the idle-adjusted energy. */
  idle_power_w?: number | null;
  /** Power usage effectiveness of the facility (≥ 1); multiplies energy for emissions only. */
  pue?: number;
  /** Grid carbon intensity (g CO2e / kWh); defaults to what the energy backend reported. */
  carbon_intensity_g_per_kwh?: number | null;
}

/**
 * Derived metrics of one experiment. Every field is a finite number or null (not measured, or
 * undefined such as a ratio over zero energy). "tokens" in per-token figures are generated
 * (output) tokens; input tokens are reported separately.
 */
export interface ExperimentMetrics {
  num_prompts: number;
  total_input_tokens: number;
  total_output_tokens: number;
  total_time_s: number;
  throughput_tokens_per_s: number | null;
  throughput_queries_per_s: number | null;
  latency_mean_s: number | null;
  latency_p50_s: number | null;
  latency_p90_s: number | null;
  latency_p99_s: number | null;
  latency_min_s: number | null;
  latency_max_s: number | null;
  energy_total_j: number | null;
  energy_total_kwh: number | null;
  energy_gpu_j: number | null;
  energy_cpu_j: number | null;
  energy_ram_j: number | null;
  energy_adjusted_j: number | null;
  energy_mean_per_process_j: number | null;
  energy_per_token_j: number | null;
  tokens_per_j: number | null;
  flops_prefill: number;
  flops_decode: number;
  flops_total: number;
  flops_per_token: number | null;
  flops_per_j: number | null;
  queries_per_kwh: number | null;
  wh_per_1k_queries: number | null;
  peak_memory_bytes: number | null;
  emissions_kg: number | null;
  carbon_intensity_g_per_kwh: number | null;
  energy_backend: string;
  energy_estimated: boolean;
}

export function deriveMetrics(t: ProcessTotals, options: DeriveOptions = {}): ExperimentMetrics {
  const pue = options.pue ?? 1;
  if (!(pue >= 1) || !Number.isFinite(pue)) throw new RangeError(`pue must be a finite number >= 1, got ${pue}`);
  const energy = t.energy_total_j;
  const kwh = energy === null ? null : energy / JOULES_PER_KWH;
  const idle = options.idle_power_w ?? null;
  const adjusted = energy === null || idle === null ? null : Math.max(0, energy - idle * t.window_s);
  const intensity = options.carbon_intensity_g_per_kwh ?? t.carbon_intensity_g_per_kwh;
  const lat = t.batch_latencies_s;

  return {
    num_prompts: t.num_prompts,
    total_input_tokens: t.input_tokens,
    total_output_tokens: t.output_tokens,
    total_time_s: t.window_s,
    throughput_tokens_per_s: ratio(t.output_tokens, t.window_s),
    throughput_queries_per_s: ratio(t.num_prompts, t.window_s),
    latency_mean_s: mean(lat),
    latency_p50_s: percentile(lat, 50),
    latency_p90_s: percentile(lat, 90),
    latency_p99_s: percentile(lat, 99),
    latency_min_s: lat.length ? Math.min(...lat) : null,
    latency_max_s: lat.length ? Math.max(...lat) : null,
    energy_total_j: energy,
    energy_total_kwh: kwh,
    energy_gpu_j: t.energy_by_scope_j.gpu,
    energy_cpu_j: t.energy_by_scope_j.cpu,
    energy_ram_j: t.energy_by_scope_j.ram,
    energy_adjusted_j: adjusted,
    energy_mean_per_process_j: t.energy_mean_per_process_j,
    energy_per_token_j: ratio(energy, t.output_tokens),
    tokens_per_j: ratio(t.output_tokens, energy),
    flops_prefill: t.flops_prefill,
    flops_decode: t.flops_decode,
    flops_total: t.flops_total,
    flops_per_token: ratio(t.flops_total, t.output_tokens),
    flops_per_j: ratio(t.flops_total, energy),
    queries_per_kwh: ratio(t.num_prompts, kwh),
    wh_per_1k_queries: energy === null ? null : ratio((energy / JOULES_PER_WH) * 1000, t.num_prompts),
    peak_memory_bytes: t.peak_memory_bytes,
    emissions_kg: kwh === null || intensity === null ? null : (kwh * pue * intensity) / 1000,
    carbon_intensity_g_per_kwh: intensity,
    energy_backend: t.energy_backend,
    energy_estimated: t.energy_estimated,
  };
}
