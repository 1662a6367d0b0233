import type { EnergyReading, RawMeasurement } from '../raw-measurement.js';

/** A valid raw measurement with the given overrides (test helper). */
export function rawRank(over: {
  rank: number;
  world_size?: number;
  prompts?: number;
  input?: number;
  output?: number;
  duration?: number;
  latencies?: number[];
  flops?: [number, number];
  peak?: number | null;
  deviceId?: string;
  host?: string;
  readings?: EnergyReading[];
  intensity?: number | null;
}): RawMeasurement {
  const latencies = over.latencies ?? [0.5];
  const [prefill, decode] = over.flops ?? [0, 0];
  const readings = over.readings ?? [];
  return {
    schema_version: 1,
    rank: over.rank,
    local_rank: over.rank,
    world_size: over.world_size ?? 2,
    host: over.host ?? 'node-1',
    pid: 1000 + over.rank,
    device: { type: 'cpu', id: over.deviceId ?? 'cpu', name: null, uuid: null },
    model: {
      name: 'tiny', architecture: 'LlamaForCausalLM', model_type: 'llama', dtype: 'float32',
      num_parameters: 209216, num_embedding_parameters: 64000, num_layers: 2, hidden_size: 64,
      num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 128, vocab_size: 1000,
      is_encoder_decoder: false,
    },
    window: { start_unix_s: 100, end_unix_s: 100 + (over.duration ?? 1), duration_s: over.duration ?? 1 },
    tokens: { num_prompts: over.prompts ?? 1, input_tokens: over.input ?? 10, output_tokens: over.output ?? 10 },
    batches: latencies.map((latency_s) => ({
      size: 1, input_tokens: 1, output_tokens: 1, padded_input_length: 1, generated_steps: 1, latency_s,
    })),
    flops: { prefill, decode, total: prefill + decode, method: 'analytic' },
    memory: { peak_bytes: over.peak === undefined ? 1000 : over.peak, kind: 'rss_peak', reserved_peak_bytes: null },
    energy: {
      backend: readings.length ? 'codecarbon' : 'none',
      backend_version: null,
      method: readings.length ? 'estimate' : 'none',
      estimated: readings.some((r) => r.estimated),
      start_unix_s: 100,
      end_unix_s: 100 + (over.duration ?? 1),
      readings,
      carbon_intensity_g_per_kwh: over.intensity ?? null,
      note: null,
    },
    outputs: null,
    environment: { python: '3.11.7' },
  };
}

export const reading = (device_id: string, scope: EnergyReading['scope'], energy_j: number, estimated = false): EnergyReading => ({
  device_id, scope, energy_j, estimated,
});
