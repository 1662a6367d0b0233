import type { ExperimentMetrics } from './derive.js';
import { MetricsError } from './errors.js';
import { SERVING_COLUMNS } from './serving/serving-metrics.js';
import { WORKLOAD_COLUMNS } from './serving/workload-figures.js';

/** Identity of one experiment as it appears in the results table. */
export interface ExperimentIdentity {
  experiment_id: string;
  config_name: string;
  model_name: string;
  suite: string | null;
  cycle_id: number | null;
  task_type: string;
  num_processes: number;
  batch_size: number;
  precision: string;
  /** Hash of the experiment as planned: the key resume compares. */
  config_hash: string;
  /**
   * Hash of what really ran (e.g. the batch size after OOM halving); cycle statistics group by
   * it. Default: config_hash.
   */
  effective_config_hash?: string;
  /**
   * True when a host-level energy reader (CPU/RAM of the whole host) ran while other jobs shared
   * the host (`energy.allow_shared_host`): its joules include theirs. Default: false.
   */
  energy_host_shared?: boolean;
  /** The model was already loaded by the worker session that ran this experiment (model reuse). Default: false. */
  model_reused?: boolean;
  /** Seconds this experiment spent loading the model and tokenizer (0 when reused); null when unknown. */
  model_load_s?: number | null;
}

export type CellValue = string | number | boolean | null;

/**
 * The results table's columns, in order. Units are in the names. Append only; never reorder:
 * the first 38 are the Foundation columns, the rest were appended with contract v2.
 */
export const RESULT_COLUMNS = [
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
  // appended (contract v2)
  'latency_min_s',
  'latency_max_s',
  'ttft_mean_s',
  'ttft_p50_s',
  'ttft_p90_s',
  'ttft_p99_s',
  'ttft_min_s',
  'ttft_max_s',
  'time_per_output_token_mean_s',
  'time_per_output_token_p50_s',
  'time_per_output_token_p90_s',
  'time_per_output_token_p99_s',
  'time_per_output_token_min_s',
  'time_per_output_token_max_s',
  'energy_machine_j',
  'energy_mean_per_process_j',
  'idle_power_w',
  'flops_per_token',
  'flops_analytic_2nt',
  'flops_method',
  'flops_quantized',
  'peak_memory_max_process_bytes',
  'peak_memory_kind',
  'carbon_intensity_g_per_kwh',
  'pue',
  'throttling_observed',
  // appended (issue 13: complete energy, shared hosts, the effective config)
  'energy_complete',
  'energy_host_shared',
  'effective_config_hash',
  // appended (issue 15: the serving engine; empty for transformers rows)
  ...SERVING_COLUMNS,
  // appended (issue 14: model reuse)
  'model_reused',
  'model_load_s',
  // appended (issue 25: gpu.power_limit_w / gpu.sm_clock_mhz as the GPU guard read them back; empty when not set)
  'gpu_power_limit_w',
  'gpu_sm_clock_mhz',
  // appended (issue 23: the workload's shape: reasoning, lengths, shared prefixes, sessions; empty for transformers rows)
  ...WORKLOAD_COLUMNS,
] as const;

export type ResultColumn = (typeof RESULT_COLUMNS)[number];
export type ResultRecord = Record<ResultColumn, CellValue>;

const STRING_COLUMNS: ReadonlySet<string> = new Set<ResultColumn>([
  'engine',
  'load_pattern',
  'serving_steady_energy_method',
  'serving_itl_source',
  'serving_workload',
  'serving_steady_ok_reason',
  'serving_energy_scope',
  'serving_energy_attribution',
  'serving_energy_attribution_source',
  'serving_output_length_enforced',
  'experiment_id',
  'config_name',
  'model_name',
  'suite',
  'task_type',
  'precision',
  'energy_backend',
  'config_hash',
  'flops_method',
  'peak_memory_kind',
  'effective_config_hash',
]);
const BOOLEAN_COLUMNS: ReadonlySet<string> = new Set<ResultColumn>([
  'serving_tokens_counted',
  'serving_client_behind',
  'serving_prompt_reuse',
  'serving_steady_ok',
  'serving_server_metrics',
  'energy_estimated',
  'flops_quantized',
  'throttling_observed',
  'energy_complete',
  'energy_host_shared',
  'model_reused',
]);
const IDENTITY_NUMBERS: ReadonlySet<string> = new Set<ResultColumn>([
  'cycle_id',
  'num_processes',
  'batch_size',
  'load_concurrency',
  'load_rate',
  'gpu_power_limit_w',
  'gpu_sm_clock_mhz',
]);

/** The numeric measurement columns (what cycle statistics and summaries are computed over), in table order. */
export const METRIC_COLUMNS: readonly ResultColumn[] = RESULT_COLUMNS.filter(
  (c) => !STRING_COLUMNS.has(c) && !BOOLEAN_COLUMNS.has(c) && !IDENTITY_NUMBERS.has(c),
);

const KNOWN_COLUMNS: ReadonlySet<string> = new Set<string>(RESULT_COLUMNS);

/** How a results-table column is typed: text, boolean or number; undefined for a column not in RESULT_COLUMNS. */
export function resultColumnType(column: string): 'text' | 'boolean' | 'number' | undefined {
  if (!KNOWN_COLUMNS.has(column)) return undefined;
  return STRING_COLUMNS.has(column) ? 'text' : BOOLEAN_COLUMNS.has(column) ? 'boolean' : 'number';
}

const clean = (v: CellValue): CellValue => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

// Every column, in order, null. Rows are copies of it: built from JSON and cloned, they keep one
// compact shape in JS engines (an object given 64 keys one by one degrades to a slow dictionary,
// three times the memory; it matters at 100,000 rows).
const TEMPLATE = JSON.parse(JSON.stringify(Object.fromEntries(RESULT_COLUMNS.map((c) => [c, null])))) as ResultRecord;
const emptyRecord = (): ResultRecord => ({ ...TEMPLATE });

/** One flat row for the results table: identity + metrics, in RESULT_COLUMNS order, no NaN/Infinity. */
export function toResultRecord(id: ExperimentIdentity, m: ExperimentMetrics): ResultRecord {
  const metrics = m as unknown as Record<string, CellValue | undefined>;
  const identity = id as unknown as Record<string, CellValue | undefined>;
  const out = emptyRecord();
  for (const column of RESULT_COLUMNS) out[column] = clean(metrics[column] ?? identity[column] ?? null);
  out.effective_config_hash = id.effective_config_hash ?? id.config_hash;
  out.energy_host_shared = id.energy_host_shared ?? false;
  out.model_reused = id.model_reused ?? false;
  out.model_load_s = clean(id.model_load_s ?? null);
  return out;
}

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Turn a row read back as strings (CSV) into typed values. Empty or missing cells become null
 * (rows written before a column was appended lack it); a cell that is not a number (numeric
 * columns) or not `true`/`false` (boolean columns) is an error naming the column.
 */
export function parseResultRecord(row: Readonly<Record<string, string | undefined>>): ResultRecord {
  const out = emptyRecord();
  for (const column of RESULT_COLUMNS) {
    const raw = row[column];
    if (raw === undefined || raw === '') out[column] = null;
    else if (STRING_COLUMNS.has(column)) out[column] = raw;
    else if (BOOLEAN_COLUMNS.has(column)) {
      if (raw !== 'true' && raw !== 'false')
        throw new MetricsError(`column ${column}: expected true or false, got ${JSON.stringify(raw)}`, 'BAD_RECORD');
      out[column] = raw === 'true';
    } else {
      const n = Number(raw);
      if (!DECIMAL.test(raw.trim()) || !Number.isFinite(n))
        throw new MetricsError(`column ${column}: expected a finite number, got ${JSON.stringify(raw)}`, 'BAD_RECORD');
      out[column] = n;
    }
  }
  return out;
}
