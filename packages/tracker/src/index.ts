export { writeFileAtomic, writeJsonAtomic } from './atomic-write.js';
export type { AppendResult, Cell } from './csv-append.js';
export { appendCsvRows, csvLine } from './csv-append.js';
export { parseCsv, readCsvColumn, readCsvRecords } from './csv-read.js';
export type { CsvTailOptions, CsvTailRead } from './csv-tail.js';
export { CsvTail } from './csv-tail.js';
export type { CsvCells } from './csv-tail-cells.js';
export {
  LockTimeoutError,
  ProgressStateError,
  ResultsFileError,
  ResultsQueryError,
  TrackerError,
  TrackerInputError,
} from './errors.js';
export { allocateExperimentId, EXPERIMENT_ID_WIDTH, formatExperimentId } from './experiment-id.js';
export type { FailureRecord, FailureRow } from './failure-log.js';
export { FAILURE_COLUMNS, readFailures, recordFailure, toFailureRow } from './failure-log.js';
export type { ResultsLayout } from './layout.js';
export { resultsLayout } from './layout.js';
export type { LockOptions } from './lock.js';
export { acquireLock, withLock } from './lock.js';
export type { Liveness, ProcessOwner } from './owner.js';
export { currentOwner, defaultLiveness, ownerAlive } from './owner.js';
export type { ProgressEntry, ProgressStatus } from './progress/entry.js';
export { PROGRESS_STATUSES } from './progress/entry.js';
export type { JournalHealth, JournalOptions, StartResult } from './progress/journal.js';
export { ProgressJournal } from './progress/journal.js';
export type { KeyParts } from './progress/key.js';
export { parseProgressKey, progressKey } from './progress/key.js';
export type { PlanOptions, ProgressView, ResumePlan, RunReason, SuiteItem } from './progress/resume.js';
export { effectiveStatus, planResume } from './progress/resume.js';
export type { ResumeOptions, ResumeState } from './progress/resume-suite.js';
export { resumeSuite } from './progress/resume-suite.js';
export type { Eta, ProgressSummary, StatusCounts } from './progress/status.js';
export { estimateRemaining, summarizeProgress } from './progress/status.js';
export type { PlainValue } from './query/plain.js';
export type { QueryParam, Row } from './query/results-db.js';
export { ResultsDb, withResultsDb } from './query/results-db.js';
export { acknowledgedIds } from './raw/acknowledged.js';
export type { CommittedExperiment, ExperimentCommit } from './raw/commit.js';
export { commitExperiment } from './raw/commit.js';
export type { PendingMarker, WrittenFolder } from './raw/experiment-folder.js';
export { confirmExperiment, writeExperimentFolder } from './raw/experiment-folder.js';
export type { FolderCheck, FolderProblem, Manifest, ManifestEntry } from './raw/manifest.js';
export { checkExperimentFolder, MANIFEST_FILE } from './raw/manifest.js';
export type { RecoverOptions, ResultsRecovery, SetAsideFolder } from './raw/recover.js';
export { recoverResults } from './raw/recover.js';
export type { SideFile } from './raw/side-files.js';
export { collectSideFiles, SERVING_WORKER_FILES, SIDE_FILE_NAMES } from './raw/side-files.js';
export type { ResultsVerification } from './raw/verify.js';
export { sweepTempFiles, verifyResults } from './raw/verify.js';
export type { RecordedExperiment } from './record-experiment.js';
export { recordExperiment } from './record-experiment.js';
export type { ExperimentRun } from './result-documents.js';
export { resultDocuments } from './result-documents.js';
