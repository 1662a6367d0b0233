// `@joules/tracker/follow`: what a reader following a results folder needs (the journal, the CSVs by
// offset, progress keys), without the rest of the tracker (DuckDB queries, raw files, config and
// metrics schemas): a process that only watches a folder starts in tens of milliseconds, not hundreds.
// Every name here is also exported by the package's index.
export type { CsvTailOptions, CsvTailRead } from './csv-tail.js';
export { CsvTail } from './csv-tail.js';
export type { CsvCells } from './csv-tail-cells.js';
export type { FailureRow } from './failure-log.js';
export { FAILURE_COLUMNS, toFailureRow } from './failure-log.js';
export type { ResultsLayout } from './layout.js';
export { resultsLayout } from './layout.js';
export type { ProgressEntry, ProgressStatus } from './progress/entry.js';
export { PROGRESS_STATUSES } from './progress/entry.js';
export type { JournalHealth, JournalOptions } from './progress/journal.js';
export { ProgressJournal } from './progress/journal.js';
export type { KeyParts } from './progress/key.js';
export { parseProgressKey, progressKey } from './progress/key.js';
export { effectiveStatus } from './progress/resume.js';
export type { Eta, ProgressSummary, StatusCounts } from './progress/status.js';
