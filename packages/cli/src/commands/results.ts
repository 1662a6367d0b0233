import path from 'node:path';
import { withResultsDb, writeFileAtomic } from '@joules/tracker';
import { stringify } from 'csv-stringify/sync';
import { EXIT, ExitError } from '../errors.js';
import type { Output } from '../output.js';
import { textTable } from '../text-table.js';
import { configSummaryRows, SUMMARY_METHOD } from './results-summary.js';

const DEFAULT_SQL =
  'SELECT experiment_id, config_name, model_name, cycle_id, batch_size, precision, num_processes, ' +
  'throughput_tokens_per_s, energy_total_j, energy_per_token_j, tokens_per_j, energy_estimated FROM results ORDER BY experiment_id';
/** The default table (no --sql) shows at most this many rows; csv, json and parquet get every row. */
export const TABLE_ROW_LIMIT = 1000;

export interface ResultsOptions {
  resultsDir?: string;
  sql?: string;
  format?: string;
  out?: string;
  cwd?: string;
  /** Per configuration: each figure's mean over cycles with its 95 % CI (Student t), instead of rows. */
  summary?: boolean;
}

/**
 * `joules results`: the results folder through DuckDB (views `results`, `failures`, `progress`, one
 * per raw JSON kind). `--sql` runs any query; `--format table|csv|json|parquet` (parquet needs --out).
 * Without --sql, the table shows the first TABLE_ROW_LIMIT rows and says how to get the rest.
 * `--summary`: one row per configuration, each figure's mean over cycles with its 95 % CI.
 */
export async function results(options: ResultsOptions, output: Output): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const format = options.format ?? 'table';
  if (!['table', 'csv', 'json', 'parquet'].includes(format))
    throw new ExitError(EXIT.usage, `--format: expected table, csv, json or parquet, got "${format}"`);
  if (format === 'parquet' && !options.out) throw new ExitError(EXIT.usage, '--format parquet needs --out FILE');
  if (options.summary && options.sql) throw new ExitError(EXIT.usage, '--summary and --sql: choose one');
  if (options.summary && format === 'parquet')
    throw new ExitError(EXIT.usage, '--summary: table, csv or json (for Parquet, --sql over the rows)');
  const sql = options.sql ?? DEFAULT_SQL;
  return withResultsDb(resultsDir, async (db) => {
    if (!options.sql && !(await db.hasView('results'))) {
      output.err(`no results yet in ${resultsDir}`);
      return EXIT.ok;
    }
    if (format === 'parquet') {
      const target = path.resolve(cwd, options.out!);
      const { rows } = await db.exportParquet(sql, target);
      output.err(`wrote ${rows} row(s) to ${target}`);
      return EXIT.ok;
    }
    const limited = format === 'table' && !options.sql && !options.summary;
    let summaryColumns: string[] | undefined;
    let rows: Record<string, unknown>[];
    if (options.summary) {
      const summary = await configSummaryRows(db, format === 'table');
      ({ rows } = summary);
      summaryColumns = summary.columns;
      output.err(SUMMARY_METHOD);
    } else rows = await db.query(limited ? `${sql} LIMIT ${TABLE_ROW_LIMIT + 1}` : sql);
    if (limited && rows.length > TABLE_ROW_LIMIT) {
      rows.length = TABLE_ROW_LIMIT;
      const [{ n } = { n: 0 }] = await db.query('SELECT count(*) AS n FROM results');
      output.err(
        `showing the first ${TABLE_ROW_LIMIT} of ${n} rows; every row: --format csv|json|parquet --out FILE; ` +
          'per configuration with 95 % CIs: --summary',
      );
    }
    const columns = summaryColumns ?? (rows.length ? Object.keys(rows[0]!) : []);
    const text =
      format === 'json'
        ? rows.map((r) => JSON.stringify(r)).join('\n')
        : format === 'csv'
          ? stringify(
              rows.map((r) =>
                columns.map((c) => (r[c] === null ? '' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : r[c])),
              ),
              { header: true, columns },
            )
          : textTable(
              columns,
              rows.map((r) => columns.map((c) => r[c])),
            );
    if (options.out) await writeFileAtomic(path.resolve(cwd, options.out), text.endsWith('\n') ? text : `${text}\n`);
    else if (text) output.out(text.trimEnd());
    return EXIT.ok;
  });
}
