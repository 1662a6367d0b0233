import { engineTraits } from '@joules/config';
import { RESULT_COLUMNS, type ResultRecord, toResultRecord } from '@joules/metrics';
import { TrackerInputError } from './errors.js';
import { resultsLayout } from './layout.js';
import { commitExperiment } from './raw/commit.js';
import { collectSideFiles } from './raw/side-files.js';
import { type ExperimentRun, resultDocuments } from './result-documents.js';

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

async function sideFilesOf(run: ExperimentRun) {
  if (run.workDir !== undefined)
    return collectSideFiles(
      run.experimentId,
      run.workDir,
      run.ranks,
      run.experiment.save_token_ids,
      run.experiment.engine,
    );
  const named = run.ranks.find((r) => r.energy.timeseries_file !== null);
  const required = Object.values(engineTraits(run.experiment.engine).sideFiles).find((f) => f.required);
  if (named || run.experiment.save_token_ids || required) {
    const what = named
      ? `rank ${named.rank} names ${named.energy.timeseries_file}`
      : required
        ? required.why
        : 'save_token_ids is on';
    throw new TrackerInputError(`workDir: required when the worker wrote side files (${what}); they would be lost`);
  }
  return { documents: {}, files: [] };
}

/** Model reuse as the worker recorded it (rank 0's environment: `model_reused`, `model_load_s`). */
function modelLoad(run: ExperimentRun): { model_reused: boolean; model_load_s: number | null } {
  const env = [...run.ranks].sort((a, b) => a.rank - b.rank)[0]?.environment ?? {};
  return {
    model_reused: env.model_reused === true,
    model_load_s: typeof env.model_load_s === 'number' ? env.model_load_s : null,
  };
}

/**
 * Write one finished experiment: its raw JSON files, the worker's side files (timeseries, token
 * ids; see collectSideFiles) and the manifest into `raw_results/<id>/` (built aside, renamed in
 * whole), then its row in `<task_type>_results.csv`. The row comes last: a row present means
 * every file of that experiment is whole. See commitExperiment.
 */
export async function recordExperiment(resultsDir: string, run: ExperimentRun): Promise<RecordedExperiment> {
  const side = await sideFilesOf(run);
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
      ...(run.effectiveConfigHash !== undefined && { effective_config_hash: run.effectiveConfigHash }),
      ...(run.energyHostShared !== undefined && { energy_host_shared: run.energyHostShared }),
      ...modelLoad(run),
    },
    run.metrics,
  );
  const committed = await commitExperiment(resultsDir, {
    experimentId: run.experimentId,
    documents: { ...resultDocuments(run), ...side.documents },
    files: side.files,
    csvFile: resultsLayout(resultsDir).resultsCsv(run.experiment.task_type),
    columns: RESULT_COLUMNS,
    row: RESULT_COLUMNS.map((c) => row[c]),
  });
  return { ...committed, row };
}
