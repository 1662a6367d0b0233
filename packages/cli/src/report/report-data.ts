import { type CellValue, RESULT_COLUMNS, type ResultRecord, type SampleMoments } from '@joules/metrics';
import type { SearchResult } from '@joules/runner';
import { type FailureRow, type ResultsDb, type Row, readFailures } from '@joules/tracker';
import { readSearchResult } from './search-result.js';

/** The metrics the report describes per configuration (mean ± 95 % CI over its cycles). */
export const REPORT_METRICS = [
  'energy_per_token_j',
  'throughput_tokens_per_s',
  'energy_total_j',
  'latency_mean_s',
] as const;
export type ReportMetric = (typeof REPORT_METRICS)[number];

/** The serving figures a study of engine "server" rows is also described by (per configuration, over cycles). */
export const SERVING_METRICS = [
  'serving_output_tokens_per_s',
  'serving_requests_per_s',
  'serving_ttft_p90_s',
  'serving_tpot_p90_s',
  'serving_energy_per_request_j',
  'serving_energy_per_good_request_j',
  'serving_goodput_share',
] as const;
export type ServingMetric = (typeof SERVING_METRICS)[number];

/** What a configuration is made of: the columns a study may vary (the serving load ones included). */
export const FACTOR_COLUMNS = [
  'model_name',
  'suite',
  'task_type',
  'engine',
  'batch_size',
  'precision',
  'num_processes',
  'load_pattern',
  'load_concurrency',
  'load_rate',
] as const;

/** Up to this many experiments, the report also lists every experiment (all RESULT_COLUMNS). */
export const EVERY_EXPERIMENT_LIMIT = 500;

/** One configuration: its cycles aggregated by DuckDB (n, mean and Σ (x − mean)² per metric). */
export interface ConfigSummary {
  /** The effective config hash (else the planned one), as cycle statistics group by. */
  key: string;
  config_name: string;
  /** Factor values (of its first experiment), by column. */
  factors: Record<string, CellValue>;
  /** Experiments (cycles) of the configuration. */
  n: number;
  /** Of them, experiments whose energy is ESTIMATED. */
  estimated?: number;
  metrics: Record<ReportMetric, SampleMoments>;
  /** The serving figures, when the study has engine "server" rows (else undefined). */
  serving?: Record<ServingMetric, SampleMoments>;
}

export interface ReportData {
  experiments: number;
  /** Experiments whose energy is ESTIMATED (no hardware counter). */
  estimated: number;
  configs: ConfigSummary[];
  /** Final failed attempts (failed_experiments.csv), oldest first. */
  failures: FailureRow[];
  /** Every experiment, for studies of at most EVERY_EXPERIMENT_LIMIT; else null. */
  rows: ResultRecord[] | null;
  /** The search's result (search_result.json beside the results), when the folder holds a search. */
  search?: SearchResult | null;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A finite DOUBLE or NULL, whatever the CSV column was typed as (an empty column reads as text). */
const number = (c: string) =>
  `CASE WHEN isfinite(TRY_CAST(${quote(c)} AS DOUBLE)) THEN TRY_CAST(${quote(c)} AS DOUBLE) END`;

/** GROUP BY per configuration over its cycles; columns the files lack read as NULL. */
function configsSql(source: string, has: (c: string) => boolean, serving: boolean): string {
  const col = (c: string) => (has(c) ? quote(c) : 'NULL');
  const first = (c: string) => `arg_min(${col(c)}, ${col('experiment_id')}) AS ${quote(c)}`;
  const metrics = [...REPORT_METRICS, ...(serving ? SERVING_METRICS : [])].flatMap((m) =>
    has(m)
      ? [
          `count(${number(m)}) AS "${m}__n"`,
          `avg(${number(m)}) AS "${m}__mean"`,
          `var_samp(${number(m)}) AS "${m}__var"`,
        ]
      : [`0 AS "${m}__n"`, `NULL AS "${m}__mean"`, `NULL AS "${m}__var"`],
  );
  const key = `coalesce(nullif(${col('effective_config_hash')}, ''), nullif(${col('config_hash')}, ''), concat_ws('::', ${col('model_name')}, ${col('suite')}, ${col('config_name')}))`;
  return `SELECT ${key} AS config_key, count(*) AS n,
  count_if(coalesce(TRY_CAST(${col('energy_estimated')} AS BOOLEAN), false)) AS estimated,
  ${[first('config_name'), ...FACTOR_COLUMNS.map(first), ...metrics].join(',\n  ')}
FROM ${source} GROUP BY config_key ORDER BY model_name, config_name, config_key`;
}

const cell = (v: unknown): CellValue =>
  v === null || v === undefined
    ? null
    : typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
      ? v
      : String(v);

/** n, mean and Σ (x − mean)² of each metric from the grouped row. */
function momentsOf<M extends string>(r: Row, names: readonly M[]): Record<M, SampleMoments> {
  const out = {} as Record<M, SampleMoments>;
  for (const m of names) {
    const n = Number(r[`${m}__n`] ?? 0);
    const variance = r[`${m}__var`];
    out[m] = {
      n,
      mean: n > 0 ? Number(r[`${m}__mean`]) : Number.NaN,
      squares: typeof variance === 'number' ? variance * (n - 1) : 0,
    };
  }
  return out;
}

function toConfig(r: Row, serving: boolean): ConfigSummary {
  return {
    key: String(r.config_key),
    config_name: String(r.config_name ?? ''),
    factors: Object.fromEntries(FACTOR_COLUMNS.map((c) => [c, cell(r[c])])),
    n: Number(r.n),
    metrics: momentsOf(r, REPORT_METRICS),
    ...(serving && { serving: momentsOf(r, SERVING_METRICS) }),
  };
}

/** Whether the rows include engine "server" ones (the serving figures are then aggregated too). */
async function hasServing(db: ResultsDb, source: string, columns: ReadonlySet<string>): Promise<boolean> {
  if (!columns.has('engine') || !columns.has('serving_requests')) return false;
  const [r] = await db.query(`SELECT count(*) AS n FROM ${source} WHERE CAST("engine" AS VARCHAR) = 'server'`);
  return Number(r?.n ?? 0) > 0;
}

/** The configurations of `source` (a view or table of result rows), aggregated over their cycles by DuckDB. */
export async function loadConfigSummaries(db: ResultsDb, source: string): Promise<ConfigSummary[]> {
  const described = await db.query(`DESCRIBE SELECT * FROM ${source}`);
  const columns = new Set(described.map((d) => String(d.column_name)));
  const serving = await hasServing(db, source, columns);
  const grouped = await db.query(configsSql(source, (c) => columns.has(c), serving));
  return grouped.map((r) => ({ ...toConfig(r, serving), estimated: Number(r.estimated) }));
}

/**
 * The report's data from the results folder, aggregated in DuckDB: per configuration (never every
 * row, unless the study is small enough to list them), the failures, the counts. `source` is the
 * view or table of result rows to read (e.g. the Parquet file of the rows the report links).
 */
export async function loadReportData(db: ResultsDb, source: string): Promise<ReportData> {
  const grouped = await loadConfigSummaries(db, source);
  const experiments = grouped.reduce((a, r) => a + r.n, 0);
  const estimated = grouped.reduce((a, r) => a + (r.estimated ?? 0), 0);
  const rows =
    experiments <= EVERY_EXPERIMENT_LIMIT
      ? (await db.query(`SELECT * FROM ${source} ORDER BY experiment_id`)).map(
          (r) => Object.fromEntries(RESULT_COLUMNS.map((c) => [c, cell(r[c])])) as ResultRecord,
        )
      : null;
  const failures = (await readFailures(db.resultsDir)).filter((f) => f.final);
  const search = await readSearchResult(db.resultsDir);
  return { experiments, estimated, configs: grouped, failures, rows, search };
}
