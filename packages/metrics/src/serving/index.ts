export type { LengthFigures } from './length-figures.js';
export { LENGTH_COLUMNS, lengthFigures } from './length-figures.js';
export type { ReasoningFigures } from './reasoning-figures.js';
export type { ServerFigures } from './server-figures.js';
export type { ServingColumn, ServingMetrics, ServingSlo } from './serving-metrics.js';
export { meetsSlo, SERVING_COLUMNS, servingColumns, servingMetrics, steadyShares, tpotOf } from './serving-metrics.js';
export type {
  LengthsSummary,
  ServerMetrics,
  ServingRequest,
  ServingSummary,
  ServingWindow,
  SessionsSummary,
} from './serving-schema.js';
export {
  LengthsSummarySchema,
  ServerMetricsSchema,
  ServingRequestSchema,
  ServingSummarySchema,
  SessionsSummarySchema,
} from './serving-schema.js';
export type { SessionFigures } from './session-figures.js';
export { SESSION_COLUMNS, sessionFigures } from './session-figures.js';
export type { WorkloadColumn, WorkloadFigures } from './workload-figures.js';
export { WORKLOAD_COLUMNS, workloadFigures } from './workload-figures.js';
