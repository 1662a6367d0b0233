import type { ExperimentMetrics } from './derive.js';

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
  config_hash: string;
}

export type CellValue = string | number | boolean | null;

/** The results table's columns, in order. Units are in the names. Append only; never reorder. */
export const RESULT_COLUMNS = [
  'experiment_id', 'config_name', 'model_name', 'suite', 'cycle_id', 'task_type', 'num_processes',
  'batch_size', 'precision', 'num_prompts', 'total_input_tokens', 'total_output_tokens', 'total_time_s',
  'throughput_tokens_per_s', 'throughput_queries_per_s', 'latency_mean_s', 'latency_p50_s',
  'latency_p90_s', 'latency_p99_s', 'energy_total_j', 'energy_total_kwh', 'energy_gpu_j', 'energy_cpu_j',
  'energy_ram_j', 'energy_adjusted_j', 'energy_per_token_j', 'tokens_per_j', 'flops_prefill',
  'flops_decode', 'flops_total', 'flops_per_j', 'queries_per_kwh', 'wh_per_1k_queries',
  'peak_memory_bytes', 'emissions_kg', 'energy_backend', 'energy_estimated', 'config_hash',
] as const;

export type ResultColumn = (typeof RESULT_COLUMNS)[number];
export type ResultRecord = Record<ResultColumn, CellValue>;

const NUMERIC = new Set<ResultColumn>(
  RESULT_COLUMNS.filter(
    (c) => !['experiment_id', 'config_name', 'model_name', 'suite', 'task_type', 'precision', 'energy_backend', 'energy_estimated', 'config_hash'].includes(c),
  ),
);

const clean = (v: CellValue): CellValue => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

/** One flat row for the results table: identity + metrics, in RESULT_COLUMNS order, no NaN/Infinity. */
export function toResultRecord(id: ExperimentIdentity, m: ExperimentMetrics): ResultRecord {
  const merged: Record<string, CellValue> = { ...id, ...m };
  const out = {} as ResultRecord;
  for (const column of RESULT_COLUMNS) out[column] = clean(merged[column] ?? null);
  return out;
}

/** Turn a row read back as strings (CSV) into typed values; empty cells become null. */
export function parseResultRecord(row: Record<string, string>): ResultRecord {
  const out = {} as ResultRecord;
  for (const column of RESULT_COLUMNS) {
    const raw = row[column];
    if (raw === undefined || raw === '') out[column] = null;
    else if (column === 'energy_estimated') out[column] = raw === 'true';
    else if (NUMERIC.has(column)) {
      const n = Number(raw);
      out[column] = Number.isFinite(n) ? n : null;
    } else out[column] = raw;
  }
  return out;
}
