export type { EnergyScope, ProcessTotals } from './aggregate.js';
export { aggregateRanks } from './aggregate.js';
export type { DeriveOptions, ExperimentMetrics } from './derive.js';
export { deriveMetrics } from './derive.js';
export type { EnergyAccount } from './energy-accounting.js';
export { accountEnergy } from './energy-accounting.js';
export type { MetricsErrorCode } from './errors.js';
export { MetricsError } from './errors.js';
export type { IdleAdjustment } from './idle-energy.js';
export { idleAdjustedEnergy } from './idle-energy.js';
export type { BatchTimings } from './latency.js';
export { batchTimings } from './latency.js';
export type { Distribution } from './numbers.js';
export { distribution, JOULES_PER_KWH, JOULES_PER_WH, mean, percentile, ratio, sum } from './numbers.js';
export type { BatchMeasurement, EnergyReading, RawMeasurement } from './raw-measurement.js';
export {
  BatchSchema,
  EnergyReadingSchema,
  RawMeasurementSchema,
  rawMeasurementJsonSchema,
} from './raw-measurement.js';
export type { CellValue, ExperimentIdentity, ResultColumn, ResultRecord } from './result-record.js';
export {
  METRIC_COLUMNS,
  parseResultRecord,
  RESULT_COLUMNS,
  resultColumnType,
  toResultRecord,
} from './result-record.js';
export * from './serving/index.js';
export type { SampleStatistics } from './statistics.js';
export { describeSample, statisticsOf } from './statistics.js';
export { studentTCdf, studentTQuantile, tCritical95 } from './student-t.js';
export { extremes, paretoFront } from './study/extremes.js';
export type { HistogramBin } from './study/histogram.js';
export { extentOf, histogram } from './study/histogram.js';
export type { SampleMoments } from './study/pooled-statistics.js';
export { pooledMoments } from './study/pooled-statistics.js';
export type { VaryingFactor } from './study/varying-factors.js';
export { compareLevels, varyingFactors } from './study/varying-factors.js';
export type { CycleStatistics, GroupOptions, GroupStatistics, RecordLike } from './summaries.js';
export { cycleStatistics, effectiveHashOf, groupStatistics } from './summaries.js';
export type { StatName, SummaryTable } from './summary-table.js';
export { DEFAULT_SUMMARY_STATS, summarizeResults, summaryTable } from './summary-table.js';
