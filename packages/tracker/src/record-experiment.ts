import { RESULT_COLUMNS, toResultRecord, type ResultRecord } from '@joules/metrics';
import { resultsLayout } from './layout.js';
import { commitExperiment } from './raw/commit.js';
import { resultDocuments, type ExperimentRun } from './result-documents.js';

export interface RecordedExperiment {
  dir: string;
  files: string[];
  /** `raw_results/<id>/manifest.json`: file names, sizes and sha256, written last. */
  manifestFile: string;
  csvFile: string;
  row: ResultRecord;
  /** Set when the CSV had other columns and was moved aside before this row. */
  rotatedCsv?: string;
}

/**
 * Write one finished experiment: its raw JSON files and manifest into `raw_results/<id>/`
 * (built aside, renamed in whole), then its row in `<task_type>_results.csv`. The row comes
 * last: a row present means every file of that experiment is whole. See commitExperiment.
 */
export async function recordExperiment(resultsDir: string, run: ExperimentRun): Promise<RecordedExperiment> {
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
  const committed = await commitExperiment(resultsDir, {
    experimentId: run.experimentId,
    documents: resultDocuments(run),
    csvFile: resultsLayout(resultsDir).resultsCsv(run.experiment.task_type),
    columns: RESULT_COLUMNS,
    row: RESULT_COLUMNS.map((c) => row[c]),
  });
  return { ...committed, row };
}
