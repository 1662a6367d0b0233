import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_COLUMNS, toResultRecord, type ResultRecord } from '@joules/metrics';
import { writeJsonAtomic } from './atomic-write.js';
import { appendCsvRows } from './csv-append.js';
import { resultsLayout } from './layout.js';
import { resultDocuments, type ExperimentRun } from './result-documents.js';

export interface RecordedExperiment {
  dir: string;
  files: string[];
  csvFile: string;
  row: ResultRecord;
  /** Set when the CSV had other columns and was moved aside before this row. */
  rotatedCsv?: string;
}

/** JSON refuses NaN/Infinity silently (as null); refuse them loudly instead. */
function assertFinite(value: unknown, where: string): void {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError(`${where}: non-finite number ${value}`);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertFinite(v, `${where}.${k}`);
  }
}

/**
 * Write one finished experiment: its raw JSON files (each atomically) into
 * `raw_results/<id>/`, then its row in `<task_type>_results.csv`. The row comes last: a row
 * present means every file of that experiment is whole.
 */
export async function recordExperiment(resultsDir: string, run: ExperimentRun): Promise<RecordedExperiment> {
  const layout = resultsLayout(resultsDir);
  const dir = layout.experimentDir(run.experimentId);
  await mkdir(dir, { recursive: true });
  const docs = resultDocuments(run);
  const files: string[] = [];
  for (const [suffix, doc] of Object.entries(docs)) {
    assertFinite(doc, suffix);
    const file = path.join(dir, `${run.experimentId}_${suffix}.json`);
    await writeJsonAtomic(file, doc);
    files.push(file);
  }
  const row = toResultRecord(
    {
      experiment_id: run.experimentId,
      config_name: run.experiment.config_name,
      model_name: run.experiment.model_name,
      suite: run.experiment.suite,
      cycle_id: run.experiment.cycle_id,
      task_type: run.experiment.task_type,
      num_processes: run.experiment.num_processes,
      batch_size: run.experiment.batch_size,
      precision: run.experiment.precision,
      config_hash: run.configHash,
    },
    run.metrics,
  );
  const csvFile = layout.resultsCsv(run.experiment.task_type);
  const appended = await appendCsvRows(csvFile, RESULT_COLUMNS, [RESULT_COLUMNS.map((c) => row[c])]);
  return { dir, files, csvFile, row, ...(appended.rotatedTo && { rotatedCsv: appended.rotatedTo }) };
}
