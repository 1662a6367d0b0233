export {
  RawMeasurementSchema,
  EnergyReadingSchema,
  BatchSchema,
  rawMeasurementJsonSchema,
} from './raw-measurement.js';
export type { RawMeasurement, EnergyReading, BatchMeasurement } from './raw-measurement.js';
export { aggregateRanks } from './aggregate.js';
export type { ProcessTotals, EnergyScope } from './aggregate.js';
export { accountEnergy } from './energy-accounting.js';
export type { EnergyAccount } from './energy-accounting.js';
export { deriveMetrics } from './derive.js';
export type { DeriveOptions, ExperimentMetrics } from './derive.js';
export { batchTimings } from './latency.js';
export type { BatchTimings } from './latency.js';
export { idleAdjustedEnergy } from './idle-energy.js';
export type { IdleAdjustment } from './idle-energy.js';
export { RESULT_COLUMNS, METRIC_COLUMNS, toResultRecord, parseResultRecord } from './result-record.js';
export type { ExperimentIdentity, ResultRecord, ResultColumn, CellValue } from './result-record.js';
export { describeSample } from './statistics.js';
export type { SampleStatistics } from './statistics.js';
export { studentTCdf, studentTQuantile, tCritical95 } from './student-t.js';
export { groupStatistics, cycleStatistics, effectiveHashOf } from './summaries.js';
export type { GroupStatistics, GroupOptions, CycleStatistics, RecordLike } from './summaries.js';
export { summaryTable, summarizeResults, DEFAULT_SUMMARY_STATS } from './summary-table.js';
export type { SummaryTable, StatName } from './summary-table.js';
export { MetricsError } from './errors.js';
export type { MetricsErrorCode } from './errors.js';
export { ratio, mean, percentile, distribution, sum, JOULES_PER_KWH, JOULES_PER_WH } from './numbers.js';
export type { Distribution } from './numbers.js';
export * from './serving/index.js';
