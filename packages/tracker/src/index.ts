export { allocateExperimentId, formatExperimentId, EXPERIMENT_ID_WIDTH } from './experiment-id.js';
export { recordExperiment } from './record-experiment.js';
export type { RecordedExperiment } from './record-experiment.js';
export { resultDocuments } from './result-documents.js';
export type { ExperimentRun } from './result-documents.js';
export { recordFailure, FAILURE_COLUMNS } from './failure-log.js';
export type { FailureRecord } from './failure-log.js';
export { appendCsvRows, csvLine } from './csv-append.js';
export type { Cell, AppendResult } from './csv-append.js';
export { parseCsv, readCsvColumn } from './csv-read.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic-write.js';
export { withLock, acquireLock } from './lock.js';
export type { LockOptions } from './lock.js';
export { currentOwner, ownerAlive, defaultLiveness } from './owner.js';
export type { ProcessOwner, Liveness } from './owner.js';
export { resultsLayout } from './layout.js';
export type { ResultsLayout } from './layout.js';

export { commitExperiment } from './raw/commit.js';
export type { ExperimentCommit, CommittedExperiment } from './raw/commit.js';
export { writeExperimentFolder, confirmExperiment } from './raw/experiment-folder.js';
export type { WrittenFolder, PendingMarker } from './raw/experiment-folder.js';
export { checkExperimentFolder, MANIFEST_FILE } from './raw/manifest.js';
export type { Manifest, ManifestEntry, FolderCheck, FolderProblem } from './raw/manifest.js';
export { recoverResults } from './raw/recover.js';
export type { ResultsRecovery, RecoverOptions, SetAsideFolder } from './raw/recover.js';
export { verifyResults, sweepTempFiles } from './raw/verify.js';
export type { ResultsVerification } from './raw/verify.js';
export { acknowledgedIds } from './raw/acknowledged.js';
export { collectSideFiles, SIDE_FILE_NAMES, SERVING_WORKER_FILES } from './raw/side-files.js';
export type { SideFile } from './raw/side-files.js';

export { ProgressJournal } from './progress/journal.js';
export type { JournalOptions, JournalHealth, StartResult } from './progress/journal.js';
export { PROGRESS_STATUSES } from './progress/entry.js';
export type { ProgressEntry, ProgressStatus } from './progress/entry.js';
export { progressKey, parseProgressKey } from './progress/key.js';
export type { KeyParts } from './progress/key.js';
export { planResume, effectiveStatus } from './progress/resume.js';
export type { SuiteItem, RunReason, ResumePlan, PlanOptions, ProgressView } from './progress/resume.js';
export { resumeSuite } from './progress/resume-suite.js';
export type { ResumeOptions, ResumeState } from './progress/resume-suite.js';
export { summarizeProgress, estimateRemaining } from './progress/status.js';
export type { StatusCounts, ProgressSummary, Eta } from './progress/status.js';

export { ResultsDb, withResultsDb } from './query/results-db.js';
export type { QueryParam, Row } from './query/results-db.js';
export type { PlainValue } from './query/plain.js';

export {
  TrackerError, LockTimeoutError, ResultsFileError, TrackerInputError, ProgressStateError, ResultsQueryError,
} from './errors.js';
