import { describe, expect, it } from 'vitest';
import { rawRank, reading } from './__fixtures__/raw.js';
import { aggregateRanks } from './aggregate.js';
import { deriveMetrics } from './derive.js';
import { MetricsError } from './errors.js';
import {
  type ExperimentIdentity,
  METRIC_COLUMNS,
  parseResultRecord,
  RESULT_COLUMNS,
  resultColumnType,
  toResultRecord,
} from './result-record.js';

// The Foundation issue's columns: the tracker and the CLI's end-to-end test rely on this exact order.
const FOUNDATION = [
  'experiment_id',
  'config_name',
  'model_name',
  'suite',
  'cycle_id',
  'task_type',
  'num_processes',
  'batch_size',
  'precision',
  'num_prompts',
  'total_input_tokens',
  'total_output_tokens',
  'total_time_s',
  'throughput_tokens_per_s',
  'throughput_queries_per_s',
  'latency_mean_s',
  'latency_p50_s',
  'latency_p90_s',
  'latency_p99_s',
  'energy_total_j',
  'energy_total_kwh',
  'energy_gpu_j',
  'energy_cpu_j',
  'energy_ram_j',
  'energy_adjusted_j',
  'energy_per_token_j',
  'tokens_per_j',
  'flops_prefill',
  'flops_decode',
  'flops_total',
  'flops_per_j',
  'queries_per_kwh',
  'wh_per_1k_queries',
  'peak_memory_bytes',
  'emissions_kg',
  'energy_backend',
  'energy_estimated',
  'config_hash',
];

const id: ExperimentIdentity = {
  experiment_id: '000007',
  config_name: 'demo',
  model_name: 'tiny',
  suite: null,
  cycle_id: 2,
  task_type: 'text_generation',
  num_processes: 2,
  batch_size: 4,
  precision: 'fp32',
  config_hash: 'abc123',
};
const metrics = deriveMetrics(
  aggregateRanks([
    rawRank({
      rank: 0,
      readings: [reading('n/gpu/A', 'gpu', 30, false, 5)],
      batches: [{ latency_s: 1, ttft_s: 0.25, generated_steps: 4 }],
      throttling: { observed: false, reasons: [] },
    }),
    rawRank({ rank: 1, output: 0 }),
  ]),
  { pue: 1.5 },
);

/** What a CSV writer produces: every cell a string, null as empty. */
const asCsvRow = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]));

describe('result record', () => {
  it('keeps the Foundation columns first, in order, and only appends', () => {
    expect(RESULT_COLUMNS.slice(0, FOUNDATION.length)).toEqual(FOUNDATION);
    expect(new Set(RESULT_COLUMNS).size).toBe(RESULT_COLUMNS.length);
  });

  it('types every column as the CSV reader parses it back (text, boolean, number); unknown ones are undefined', () => {
    expect(['experiment_id', 'energy_estimated', 'batch_size', 'energy_total_j'].map(resultColumnType)).toEqual([
      'text',
      'boolean',
      'number',
      'number',
    ]);
    expect(resultColumnType('not_a_column')).toBeUndefined();
    const row = toResultRecord(id, metrics);
    for (const c of RESULT_COLUMNS) {
      const v = row[c];
      if (v !== null) expect(typeof v, c).toBe(resultColumnType(c) === 'text' ? 'string' : resultColumnType(c));
    }
  });

  it('every identity and metric field has a column (nothing is dropped from the CSV)', () => {
    for (const k of [...Object.keys(id), ...Object.keys(metrics)]) expect(RESULT_COLUMNS).toContain(k);
  });

  it('measurement columns carry a unit suffix (or are counts, ratios named by their unit)', () => {
    const unitless = new Set([
      'num_prompts',
      'pue',
      'flops_prefill',
      'flops_decode',
      'flops_total',
      'flops_analytic_2nt',
      'flops_per_token',
      'queries_per_kwh',
      'tokens_per_j',
      'total_input_tokens',
      'total_output_tokens',
      // serving engine: counts and shares
      'serving_requests',
      'serving_errors',
      'serving_error_share',
      'serving_output_tokens',
      'serving_goodput_share',
      'serving_good_requests',
      // the server's own metrics: requests, a fraction, tokens, a share
      'serving_server_running_mean',
      'serving_server_kv_cache_usage_mean',
      'serving_server_prefix_cache_hits',
      'serving_server_prefix_cache_queries',
      'serving_server_prefix_cache_hit_rate',
      // issue 23: token counts and a share
      'serving_reasoning_tokens_mean',
      'serving_answer_tokens_mean',
      'serving_reasoning_share',
      // issue 23: sessions and turns
      'serving_sessions',
      'serving_sessions_completed',
      'serving_turns_per_session_mean',
      // issue 23: token lengths (mean and spread) and the shared prefixes
      'serving_input_tokens_mean',
      'serving_input_tokens_std',
      'serving_output_tokens_mean',
      'serving_output_tokens_std',
      'serving_shared_prefix_count',
    ]);
    for (const c of METRIC_COLUMNS)
      if (!unitless.has(c)) expect(c).toMatch(/_(s|j|kwh|w|bytes|kg|per_s|per_j|per_kwh|per_1k_queries)$/);
  });

  it('toResultRecord puts values in column order, no NaN or Infinity', () => {
    const row = toResultRecord(id, metrics);
    expect(Object.keys(row)).toEqual([...RESULT_COLUMNS]);
    for (const v of Object.values(row)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    expect(row).toMatchObject({
      experiment_id: '000007',
      cycle_id: 2,
      energy_total_j: 30,
      ttft_mean_s: 0.25,
      time_per_output_token_mean_s: 0.25,
      pue: 1.5,
      throttling_observed: false,
      idle_power_w: 5,
    });
    expect(
      toResultRecord(id, { ...metrics, latency_mean_s: Number.NaN, tokens_per_j: Number.POSITIVE_INFINITY }),
    ).toMatchObject({ latency_mean_s: null, tokens_per_j: null });
  });

  it('effective_config_hash defaults to the planned hash, energy_host_shared to false; both are appended at the end', () => {
    const after = RESULT_COLUMNS.indexOf('throttling_observed') + 1;
    expect(RESULT_COLUMNS.slice(after, after + 3)).toEqual([
      'energy_complete',
      'energy_host_shared',
      'effective_config_hash',
    ]);
    expect(toResultRecord(id, metrics)).toMatchObject({
      config_hash: 'abc123',
      effective_config_hash: 'abc123',
      energy_host_shared: false,
    });
    const halved = toResultRecord({ ...id, effective_config_hash: 'def456', energy_host_shared: true }, metrics);
    expect(halved).toMatchObject({ config_hash: 'abc123', effective_config_hash: 'def456', energy_host_shared: true });
    expect(parseResultRecord(asCsvRow(halved))).toEqual(halved);
  });

  it('parseResultRecord turns a CSV row back into the same typed values', () => {
    const row = toResultRecord(id, metrics);
    expect(parseResultRecord(asCsvRow(row))).toEqual(row);
  });

  it('parseResultRecord: missing or empty cells are null (rows written before a column was appended)', () => {
    const old = Object.fromEntries(FOUNDATION.map((c) => [c, '']));
    const parsed = parseResultRecord({ ...old, experiment_id: '000001', energy_estimated: 'false', num_prompts: '12' });
    expect(parsed).toMatchObject({
      experiment_id: '000001',
      energy_estimated: false,
      num_prompts: 12,
      ttft_mean_s: null,
      pue: null,
    });
  });

  it('parseResultRecord keeps text columns text, even when they look numeric', () => {
    expect(parseResultRecord({ experiment_id: '000001', config_name: '42' })).toMatchObject({
      experiment_id: '000001',
      config_name: '42',
    });
  });

  it.each([
    ['energy_total_j', 'abc'],
    ['energy_total_j', 'NaN'],
    ['tokens_per_j', 'Infinity'],
    ['num_prompts', '0x10'],
    ['energy_estimated', 'yes'],
  ])('parseResultRecord rejects %s = %s, naming the column', (column, value) => {
    expect(() => parseResultRecord({ [column]: value })).toThrow(MetricsError);
    expect(() => parseResultRecord({ [column]: value })).toThrow(new RegExp(`column ${column}`));
  });
});
