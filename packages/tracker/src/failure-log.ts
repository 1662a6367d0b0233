import { appendCsvRows } from './csv-append.js';
import { resultsLayout } from './layout.js';

export const FAILURE_COLUMNS = [
  'timestamp', 'experiment_id', 'config_name', 'model_name', 'attempt', 'kind', 'error_message', 'config_json',
] as const;

export interface FailureRecord {
  experimentId: string;
  configName: string;
  modelName: string;
  attempt: number;
  kind: string;
  message: string;
  config: unknown;
}

/** Append one failed attempt to `failed_experiments.csv` (quoted CSV, under a lock). */
export async function recordFailure(resultsDir: string, f: FailureRecord, now = new Date()): Promise<string> {
  const file = resultsLayout(resultsDir).failuresCsv;
  await appendCsvRows(file, FAILURE_COLUMNS, [
    [now.toISOString(), f.experimentId, f.configName, f.modelName, f.attempt, f.kind, f.message, JSON.stringify(f.config)],
  ]);
  return file;
}
