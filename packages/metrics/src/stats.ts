// `@joules/metrics/stats`: the sample statistics (mean, Student-t 95 % interval, pooled moments) and
// the Pareto front, without the rest of the package (the result record's zod schemas, derivation):
// a process that only follows results (the watch) loads it in a few milliseconds, not ~60.
// Every name here is also exported by the package's index.
export type { SampleStatistics } from './statistics.js';
export { describeSample, statisticsOf } from './statistics.js';
export { tCritical95 } from './student-t.js';
export { paretoFront } from './study/extremes.js';
export type { SampleMoments } from './study/pooled-statistics.js';
export { pooledMoments } from './study/pooled-statistics.js';
