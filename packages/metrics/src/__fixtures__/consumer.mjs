// A team's own script: it imports the built, packed @joules/metrics with only zod beside it,
// feeds it the README's worked example, and prints what it got as JSON.
import * as metrics from '@joules/metrics';

const { RawMeasurementSchema, aggregateRanks, deriveMetrics, toResultRecord, cycleStatistics, parseResultRecord } =
  metrics;

const reading = (device_id, scope, energy_j, idle_power_w) => ({
  device_id,
  scope,
  energy_j,
  missing_reason: null,
  active_s: 2.5,
  estimated: true,
  idle_power_w,
});
const shared = [reading('node-1/cpu', 'cpu', 30, 8), reading('node-1/ram', 'ram', 6, 2)];
const batch = (latency_s, ttft_s, generated_steps) => ({
  size: 2,
  input_tokens: 40,
  output_tokens: 30,
  padded_input_length: 25,
  generated_steps,
  latency_s,
  ttft_s,
  delay_before_s: 0,
});
const rank = (r, prompts, input, output, duration, batches, prefill, decode, peak) => ({
  schema_version: 3,
  rank: r,
  local_rank: r,
  world_size: 2,
  host: 'node-1',
  pid: 100 + r,
  device: { type: 'cpu', id: 'cpu', name: null, uuid: null },
  model: {
    name: 'tiny',
    architecture: null,
    model_type: null,
    dtype: 'float32',
    num_parameters: 1,
    num_embedding_parameters: 0,
    num_layers: null,
    hidden_size: null,
    num_attention_heads: null,
    num_key_value_heads: null,
    intermediate_size: null,
    vocab_size: null,
    is_encoder_decoder: false,
  },
  window: { start_unix_s: 10, end_unix_s: 10 + duration, duration_s: duration },
  tokens: { num_prompts: prompts, input_tokens: input, output_tokens: output },
  batches,
  flops: { prefill, decode, total: prefill + decode, method: 'analytic', analytic_2nt: null, quantized: false },
  memory: { peak_bytes: peak, kind: 'rss_peak', reserved_peak_bytes: null },
  energy: {
    backend: 'codecarbon',
    backend_version: null,
    method: 'estimate',
    estimated: true,
    start_unix_s: 10,
    end_unix_s: 10 + duration,
    readings: shared,
    carbon_intensity_g_per_kwh: 400,
    note: null,
    samples: null,
    idle: null,
    timeseries_file: null,
    throttling: null,
    complete: true,
    gpu_state: null,
  },
  outputs: null,
  environment: { python: '3.11.7' },
});

const ranks = [
  rank(0, 4, 100, 64, 2.0, [batch(0.5, 0.1, 5), batch(0.7, 0.1, 4)], 1e9, 3e9, 1000),
  rank(1, 4, 80, 60, 2.5, [batch(0.9, 0.2, 8), batch(0.4, null, 4)], 1e9, 2e9, 1500),
].map((r) => RawMeasurementSchema.parse(JSON.parse(JSON.stringify(r))));
const m = deriveMetrics(aggregateRanks(ranks), { pue: 1.2 });
const id = {
  experiment_id: '000001',
  config_name: 'demo',
  model_name: 'tiny',
  suite: null,
  cycle_id: 1,
  task_type: 'text_generation',
  num_processes: 2,
  batch_size: 2,
  precision: 'fp32',
  config_hash: 'h1',
};
const row = toResultRecord(id, m);
const csvRow = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]));
const cycles = cycleStatistics(
  [row, { ...parseResultRecord(csvRow), cycle_id: 2, energy_total_j: 40 }, { ...row, cycle_id: 3, energy_total_j: 38 }],
  { metrics: ['energy_total_j'] },
);
process.stdout.write(JSON.stringify({ exports: Object.keys(metrics).sort(), metrics: m, cycles }));
