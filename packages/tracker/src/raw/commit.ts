import path from 'node:path';
import { appendCsvRows, type Cell } from '../csv-append.js';
import { TrackerInputError } from '../errors.js';
import { resultsLayout } from '../layout.js';
import { confirmExperiment, writeExperimentFolder } from './experiment-folder.js';
import type { SideFile } from './side-files.js';

export interface ExperimentCommit {
  experimentId: string;
  /** File suffix → JSON document; written as `raw_results/<id>/<id>_<suffix>.json`. */
  documents: Record<string, unknown>;
  /** Files copied as they are, as `raw_results/<id>/<id>_<name>` (timeseries, …). */
  files?: readonly SideFile[];
  /** The CSV that acknowledges the experiment, its columns (fixed order) and the row. */
  csvFile: string;
  columns: readonly string[];
  row: readonly Cell[];
}

export interface CommittedExperiment {
  dir: string;
  files: string[];
  manifestFile: string;
  csvFile: string;
  /** Set when the CSV had other columns and was moved aside before this row. */
  rotatedCsv?: string;
}

/**
 * Record one finished experiment, in an order that survives a crash at any instant: pending
 * marker → folder (files, manifest last, renamed in whole) → CSV row (the acknowledgment) →
 * marker removed. `recoverResults` finishes or sets aside whatever a dead process left.
 */
export async function commitExperiment(resultsDir: string, c: ExperimentCommit): Promise<CommittedExperiment> {
  if (path.dirname(path.resolve(c.csvFile)) !== resultsLayout(resultsDir).root)
    throw new TrackerInputError(`csvFile: must lie directly in the results folder (${c.csvFile})`);
  const idColumn = c.columns.indexOf('experiment_id');
  if (idColumn < 0) throw new TrackerInputError(`columns: an "experiment_id" column is required (${c.csvFile})`);
  if (c.row[idColumn] !== c.experimentId)
    throw new TrackerInputError(`row: experiment_id is "${c.row[idColumn]}", expected "${c.experimentId}"`);
  const folder = await writeExperimentFolder(resultsDir, c.experimentId, c.documents, c.csvFile, c.files);
  const appended = await appendCsvRows(c.csvFile, c.columns, [c.row]);
  await confirmExperiment(resultsDir, c.experimentId);
  return { ...folder, csvFile: c.csvFile, ...(appended.rotatedTo && { rotatedCsv: appended.rotatedTo }) };
}
