import type { ProcessTotals } from './aggregate.js';
import { MetricsError } from './errors.js';
import { idleAdjustedEnergy } from './idle-energy.js';
import { batchTimings } from './latency.js';
import { JOULES_PER_KWH, JOULES_PER_WH, ratio } from './numbers.js';

export interface DeriveOptions {
  /**
   * Idle power of everything measured together (W). When given, the idle-adjusted energy is
   * max(0, E − P_idle·T) over the total, instead of the per-reading idle powers the worker measured.
   */
  idle_power_w?: number | null;
  /** Power usage effectiveness of the facility (≥ 1, default 1); multiplies energy for emissions only. */
  pue?: number;
  /** Grid carbon intensity (g CO2e / kWh), e.g. from the experiment's config; else the backend's. */
  carbon_intensity_g_per_kwh?: number | null;
}

/**
 * Derived metrics of one experiment. Every number is finite or null (not measured, or undefined
 * such as a ratio over zero energy). "Tokens" in per-token figures are generated (output) tokens.
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
  ttft_mean_s: number | null;
  ttft_p50_s: number | null;
  ttft_p90_s: number | null;
  ttft_p99_s: number | null;
  ttft_min_s: number | null;
  ttft_max_s: number | null;
  time_per_output_token_mean_s: number | null;
  time_per_output_token_p50_s: number | null;
  time_per_output_token_p90_s: number | null;
  time_per_output_token_p99_s: number | null;
  time_per_output_token_min_s: number | null;
  time_per_output_token_max_s: number | null;
  /** Null when energy was not measured, or not for every device (energy_complete false). */
  energy_total_j: number | null;
  /** False when a rank could not read one of its devices: no total, per-token or per-joule figure is published. Null when not measured. */
  energy_complete: boolean | null;
  energy_total_kwh: number | null;
  energy_gpu_j: number | null;
  energy_cpu_j: number | null;
  energy_ram_j: number | null;
  energy_machine_j: number | null;
  energy_adjusted_j: number | null;
  /** The idle power subtracted for energy_adjusted_j (W); null when none was known. */
  idle_power_w: number | null;
  energy_mean_per_process_j: number | null;
  energy_per_token_j: number | null;
  tokens_per_j: number | null;
  flops_prefill: number;
  flops_decode: number;
  flops_total: number;
  flops_per_token: number | null;
  flops_per_j: number | null;
  flops_analytic_2nt: number | null;
  flops_method: string;
  flops_quantized: boolean;
  queries_per_kwh: number | null;
  wh_per_1k_queries: number | null;
  peak_memory_bytes: number | null;
  peak_memory_max_process_bytes: number | null;
  peak_memory_kind: string | null;
  emissions_kg: number | null;
  carbon_intensity_g_per_kwh: number | null;
  pue: number;
  energy_backend: string;
  energy_estimated: boolean;
  throttling_observed: boolean | null;
}

function checkOption(name: string, value: number | null | undefined, min: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new MetricsError(
      `deriveMetrics: option ${name} must be a finite number >= ${min}, got ${String(value)}`,
      'BAD_OPTION',
    );
  }
}

export function deriveMetrics(t: ProcessTotals, options: DeriveOptions = {}): ExperimentMetrics {
  checkOption('pue', options.pue, 1);
  checkOption('idle_power_w', options.idle_power_w, 0);
  checkOption('carbon_intensity_g_per_kwh', options.carbon_intensity_g_per_kwh, 0);
  const pue = options.pue ?? 1;
  const energy = t.energy_total_j;
  const kwh = energy === null ? null : energy / JOULES_PER_KWH;
  const idle = idleAdjustedEnergy(t, options.idle_power_w ?? null);
  const intensity = options.carbon_intensity_g_per_kwh ?? t.carbon_intensity_g_per_kwh;
  const { latency, ttft, time_per_output_token: tpot } = batchTimings(t.batches);

  return {
    num_prompts: t.num_prompts,
    total_input_tokens: t.input_tokens,
    total_output_tokens: t.output_tokens,
    total_time_s: t.window_s,
    throughput_tokens_per_s: ratio(t.output_tokens, t.window_s),
    throughput_queries_per_s: ratio(t.num_prompts, t.window_s),
    latency_mean_s: latency.mean,
    latency_p50_s: latency.p50,
    latency_p90_s: latency.p90,
    latency_p99_s: latency.p99,
    latency_min_s: latency.min,
    latency_max_s: latency.max,
    ttft_mean_s: ttft.mean,
    ttft_p50_s: ttft.p50,
    ttft_p90_s: ttft.p90,
    ttft_p99_s: ttft.p99,
    ttft_min_s: ttft.min,
    ttft_max_s: ttft.max,
    time_per_output_token_mean_s: tpot.mean,
    time_per_output_token_p50_s: tpot.p50,
    time_per_output_token_p90_s: tpot.p90,
    time_per_output_token_p99_s: tpot.p99,
    time_per_output_token_min_s: tpot.min,
    time_per_output_token_max_s: tpot.max,
    energy_total_j: energy,
    energy_complete: t.energy_complete,
    energy_total_kwh: kwh,
    energy_gpu_j: t.energy_by_scope_j.gpu,
    energy_cpu_j: t.energy_by_scope_j.cpu,
    energy_ram_j: t.energy_by_scope_j.ram,
    energy_machine_j: t.energy_by_scope_j.machine,
    energy_adjusted_j: idle.adjusted_j,
    idle_power_w: idle.idle_power_w,
    energy_mean_per_process_j: t.energy_mean_per_process_j,
    energy_per_token_j: ratio(energy, t.output_tokens),
    tokens_per_j: ratio(t.output_tokens, energy),
    flops_prefill: t.flops_prefill,
    flops_decode: t.flops_decode,
    flops_total: t.flops_total,
    flops_per_token: ratio(t.flops_total, t.output_tokens),
    flops_per_j: ratio(t.flops_total, energy),
    flops_analytic_2nt: t.flops_analytic_2nt,
    flops_method: t.flops_method,
    flops_quantized: t.flops_quantized,
    queries_per_kwh: ratio(t.num_prompts, kwh),
    wh_per_1k_queries: energy === null ? null : ratio((energy / JOULES_PER_WH) * 1000, t.num_prompts),
    peak_memory_bytes: t.peak_memory_bytes,
    peak_memory_max_process_bytes: t.peak_memory_max_process_bytes,
    peak_memory_kind: t.peak_memory_kind,
    emissions_kg: kwh === null || intensity === null ? null : (kwh * pue * intensity) / 1000,
    carbon_intensity_g_per_kwh: intensity,
    pue,
    energy_backend: t.energy_backend,
    energy_estimated: t.energy_estimated,
    throttling_observed: t.throttling_observed,
  };
}
