import { z } from 'zod';

const finite = () => z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegative = () => finite().nonnegative();
const count = () => z.int().nonnegative();

/**
 * One energy reading: joules of one device (or host component) over its active spans.
 * `energy_j` is null when the device could not be read (NVML does not find it, or it yields neither
 * an energy counter nor power); `missing_reason` then says why. A null reading is never 0 J.
 */
export const EnergyReadingSchema = z
  .strictObject({
    device_id: z
      .string()
      .min(1)
      .describe('one physical device on one host, e.g. "node-1/cpu" or "node-1/gpu/GPU-uuid"'),
    scope: z.enum(['gpu', 'cpu', 'ram', 'machine']),
    energy_j: nonNegative()
      .nullable()
      .describe("joules over this reading's active spans, or null when the device could not be read"),
    missing_reason: z.string().min(1).nullable().describe('why energy_j is null (null when it is a number)'),
    active_s: nonNegative().describe(
      'seconds this reading covered (its active spans; traffic waits it paused for excluded)',
    ),
    estimated: z.boolean().describe('true when modelled (e.g. from TDP), not read from a counter'),
    idle_power_w: nonNegative().nullable().describe('idle power of this device (W), or null when not measured'),
  })
  .refine((r) => (r.energy_j === null) === (r.missing_reason !== null), {
    message: 'must be set exactly when energy_j is null',
    path: ['missing_reason'],
  });

/** A GPU's thermal and power state at one moment (NVML), to compare the idle baseline with the window. */
const GpuStateSchema = z.strictObject({
  device_id: z.string().min(1),
  temp_c: finite().nullable().describe('GPU temperature (°C), or null when NVML does not say'),
  pstate: count().nullable().describe('performance state (0 = P0, fastest), or null'),
  power_limit_w: nonNegative().nullable().describe('enforced power limit (W), or null'),
});

export const BatchSchema = z
  .strictObject({
    size: count(),
    input_tokens: count(),
    output_tokens: count(),
    padded_input_length: count(),
    generated_steps: count(),
    latency_s: nonNegative(),
    ttft_s: nonNegative().nullable().describe('time to first token of this batch (measured), or null'),
    delay_before_s: nonNegative().describe('simulated traffic wait before this batch'),
  })
  .refine((b) => b.ttft_s === null || b.ttft_s <= b.latency_s, {
    message: 'must not exceed latency_s',
    path: ['ttft_s'],
  });

const ModelSchema = z.strictObject({
  name: z.string().min(1),
  architecture: z.string().nullable(),
  model_type: z.string().nullable(),
  dtype: z.string(),
  num_parameters: count(),
  num_embedding_parameters: count(),
  num_layers: count().nullable(),
  hidden_size: count().nullable(),
  num_attention_heads: count().nullable(),
  num_key_value_heads: count().nullable(),
  intermediate_size: count().nullable(),
  vocab_size: count().nullable(),
  is_encoder_decoder: z.boolean(),
});

const EnergySchema = z
  .strictObject({
    backend: z.string().min(1),
    backend_version: z.string().nullable(),
    method: z.enum(['counter', 'polling', 'estimate', 'none']),
    estimated: z.boolean(),
    start_unix_s: nonNegative().nullable(),
    end_unix_s: nonNegative().nullable(),
    readings: z.array(EnergyReadingSchema),
    carbon_intensity_g_per_kwh: nonNegative().nullable(),
    note: z.string().nullable(),
    samples: count().nullable().describe('power samples taken (polling), or null'),
    idle: z
      .strictObject({ duration_s: nonNegative(), cached: z.boolean() })
      .nullable()
      .describe('how the idle baselines were obtained, or null'),
    timeseries_file: z
      .string()
      .regex(/^[^/\\]+$/, 'must be a file name beside rank-<r>.json, without a folder')
      .nullable()
      .describe('JSONL of power samples beside rank-<r>.json, or null'),
    throttling: z
      .strictObject({ observed: z.boolean(), reasons: z.array(z.string()) })
      .nullable()
      .describe('from NVML clock-throttle reasons, or null'),
    complete: z
      .boolean()
      .describe(
        'false when any reading of this rank is null (a device that could not be read): no total may be published',
      ),
    gpu_state: z
      .strictObject({ idle: z.array(GpuStateSchema).nullable(), window_start: z.array(GpuStateSchema) })
      .nullable()
      .describe(
        'GPU temperature / power state at the idle baseline (null: no baseline) and at window start, or null without NVML',
      ),
  })
  .refine((e) => !e.readings.some((r) => r.energy_j === null) || !e.complete, {
    message: 'must be false when a reading is null',
    path: ['complete'],
  });

/** What one worker rank measured (`rank-<r>.json`, `schema_version: 3`; see contract/V2.md and contract/V3.md). */
export const RawMeasurementSchema = z.strictObject({
  schema_version: z.literal(3),
  rank: count(),
  local_rank: count(),
  world_size: z.int().positive(),
  host: z.string().min(1),
  pid: z.int().positive(),
  device: z.strictObject({
    type: z.enum(['cpu', 'cuda']),
    id: z.string().min(1),
    name: z.string().nullable(),
    uuid: z.string().nullable(),
  }),
  model: ModelSchema,
  window: z.strictObject({ start_unix_s: nonNegative(), end_unix_s: nonNegative(), duration_s: nonNegative() }),
  tokens: z.strictObject({ num_prompts: count(), input_tokens: count(), output_tokens: count() }),
  batches: z.array(BatchSchema),
  flops: z.strictObject({
    prefill: nonNegative(),
    decode: nonNegative(),
    total: nonNegative(),
    method: z.enum(['analytic', 'flop_counter']),
    analytic_2nt: nonNegative().nullable().describe('the plain 2·N_non-embedding·tokens estimate, or null'),
    quantized: z.boolean().describe('FLOPs of a quantized model are flagged, not trusted'),
  }),
  memory: z.strictObject({
    peak_bytes: count().nullable(),
    kind: z.enum(['cuda_max_allocated', 'rss_peak', 'rss_lifetime_peak']),
    reserved_peak_bytes: count().nullable(),
  }),
  energy: EnergySchema,
  outputs: z.strictObject({ prompts: z.array(z.string()), texts: z.array(z.string()) }).nullable(),
  environment: z.record(z.string(), z.json()),
});

export type RawMeasurement = z.output<typeof RawMeasurementSchema>;
export type EnergyReading = z.output<typeof EnergyReadingSchema>;
export type BatchMeasurement = z.output<typeof BatchSchema>;

/** JSON Schema of one rank's raw measurement (the worker's side of the contract). */
export function rawMeasurementJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RawMeasurementSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
