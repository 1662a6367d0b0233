import type { BatchMeasurement, EnergyReading, RawMeasurement } from '../raw-measurement.js';

/** A valid raw measurement (`schema_version: 3`) with the given overrides (test helper). */
export function rawRank(over: {
  rank: number;
  world_size?: number;
  prompts?: number;
  input?: number;
  output?: number;
  duration?: number;
  latencies?: number[];
  /** Per-batch overrides, instead of `latencies`. */
  batches?: Partial<BatchMeasurement>[];
  flops?: [number, number];
  analytic?: number | null;
  quantized?: boolean;
  peak?: number | null;
  deviceId?: string;
  uuid?: string | null;
  host?: string;
  readings?: EnergyReading[];
  intensity?: number | null;
  backend?: string;
  throttling?: RawMeasurement['energy']['throttling'];
  samples?: number | null;
}): RawMeasurement {
  const batches = over.batches ?? (over.latencies ?? [0.5]).map((latency_s) => ({ latency_s }));
  const [prefill, decode] = over.flops ?? [0, 0];
  const readings = over.readings ?? [];
  const cuda = over.deviceId?.startsWith('cuda') ?? false;
  return {
    schema_version: 3,
    rank: over.rank,
    local_rank: over.rank,
    world_size: over.world_size ?? 2,
    host: over.host ?? 'node-1',
    pid: 1000 + over.rank,
    device: { type: cuda ? 'cuda' : 'cpu', id: over.deviceId ?? 'cpu', name: null, uuid: over.uuid ?? null },
    model: {
      name: 'tiny',
      architecture: 'LlamaForCausalLM',
      model_type: 'llama',
      dtype: 'float32',
      num_parameters: 209216,
      num_embedding_parameters: 64000,
      num_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      intermediate_size: 128,
      vocab_size: 1000,
      is_encoder_decoder: false,
    },
    window: { start_unix_s: 100, end_unix_s: 100 + (over.duration ?? 1), duration_s: over.duration ?? 1 },
    tokens: { num_prompts: over.prompts ?? 1, input_tokens: over.input ?? 10, output_tokens: over.output ?? 10 },
    batches: batches.map((b) => ({
      size: 1,
      input_tokens: 1,
      output_tokens: 1,
      padded_input_length: 1,
      generated_steps: 1,
      latency_s: 0.5,
      ttft_s: null,
      delay_before_s: 0,
      ...b,
    })),
    flops: {
      prefill,
      decode,
      total: prefill + decode,
      method: 'analytic',
      analytic_2nt: over.analytic ?? null,
      quantized: over.quantized ?? false,
    },
    memory: {
      peak_bytes: over.peak === undefined ? 1000 : over.peak,
      kind: cuda ? 'cuda_max_allocated' : 'rss_peak',
      reserved_peak_bytes: null,
    },
    energy: {
      backend: over.backend ?? (readings.length ? 'codecarbon' : 'none'),
      backend_version: null,
      method: readings.length ? 'estimate' : 'none',
      estimated: readings.some((r) => r.estimated),
      start_unix_s: 100,
      end_unix_s: 100 + (over.duration ?? 1),
      readings,
      carbon_intensity_g_per_kwh: over.intensity ?? null,
      note: null,
      samples: over.samples ?? null,
      idle: null,
      timeseries_file: null,
      throttling: over.throttling ?? null,
      complete: readings.every((r) => r.energy_j !== null),
      gpu_state: null,
    },
    outputs: null,
    environment: { python: '3.11.7' },
  };
}

export const reading = (
  device_id: string,
  scope: EnergyReading['scope'],
  energy_j: number | null,
  estimated = false,
  idle_power_w: number | null = null,
  active_s = 1,
): EnergyReading => ({
  device_id,
  scope,
  energy_j,
  missing_reason: energy_j === null ? 'not read (test)' : null,
  active_s,
  estimated,
  idle_power_w,
});
