import { appendCsvRows } from './csv-append.js';
import { readCsvRecords } from './csv-read.js';
import { resultsLayout } from './layout.js';

/** Columns of `failed_experiments.csv`. Append only; never reorder (a new set starts a new file). */
export const FAILURE_COLUMNS = [
  'timestamp',
  'experiment_id',
  'config_name',
  'model_name',
  'attempt',
  'kind',
  'error_message',
  'config_json',
  'final',
] as const;

export interface FailureRecord {
  experimentId: string;
  configName: string;
  modelName: string;
  /** 1 for the first attempt. */
  attempt: number;
  kind: string;
  message: string;
  config: unknown;
  /** No further attempt follows (retries exhausted, or a failure not worth retrying). Default true. */
  final?: boolean;
}

/**
 * Append one failed attempt to `failed_experiments.csv` (quoted CSV, under a lock): every attempt
 * gets a row; `final` tells the last one.
 */
export async function recordFailure(resultsDir: string, f: FailureRecord, now = new Date()): Promise<string> {
  const file = resultsLayout(resultsDir).failuresCsv;
  await appendCsvRows(file, FAILURE_COLUMNS, [
    [
      now.toISOString(),
      f.experimentId,
      f.configName,
      f.modelName,
      f.attempt,
      f.kind,
      f.message,
      JSON.stringify(f.config) ?? null,
      f.final ?? true,
    ],
  ]);
  return file;
}

/** One row of `failed_experiments.csv`, as read back (every failed attempt has one; `final` marks the last). */
export interface FailureRow extends Omit<FailureRecord, 'config' | 'final'> {
  timestamp: string;
  final: boolean;
}

/**
 * The rows of `failed_experiments.csv` (none when it is not there), oldest first; takes no lock. A
 * torn last line is left out; a missing or odd cell reads as its default (attempt 1, kind `other`,
 * `final` unless it says false).
 */
export async function readFailures(resultsDir: string): Promise<FailureRow[]> {
  return (await readCsvRecords(resultsLayout(resultsDir).failuresCsv)).map(toFailureRow);
}

/** One record of `failed_experiments.csv` (by column name) as a FailureRow: a missing or odd cell reads as its default. */
export function toFailureRow(r: Readonly<Record<string, string | undefined>>): FailureRow {
  return {
    timestamp: r.timestamp ?? '',
    experimentId: r.experiment_id ?? '',
    configName: r.config_name ?? '',
    modelName: r.model_name ?? '',
    attempt: Number(r.attempt) || 1,
    kind: r.kind || 'other',
    message: r.error_message ?? '',
    final: r.final !== 'false',
  };
}
