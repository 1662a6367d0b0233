export {
  RawMeasurementSchema,
  EnergyReadingSchema,
  BatchSchema,
  rawMeasurementJsonSchema,
} from './raw-measurement.js';
export type { RawMeasurement, EnergyReading, BatchMeasurement } from './raw-measurement.js';
export { aggregateRanks } from './aggregate.js';
export type { ProcessTotals, EnergyScope } from './aggregate.js';
export { deriveMetrics } from './derive.js';
export type { DeriveOptions, ExperimentMetrics } from './derive.js';
export { RESULT_COLUMNS, toResultRecord, parseResultRecord } from './result-record.js';
export type { ExperimentIdentity, ResultRecord, ResultColumn, CellValue } from './result-record.js';
export { ratio, mean, percentile, sum, JOULES_PER_KWH, JOULES_PER_WH } from './numbers.js';
