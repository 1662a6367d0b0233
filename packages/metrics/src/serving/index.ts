export type { ServingColumn, ServingMetrics, ServingSlo } from './serving-metrics.js';
export { meetsSlo, SERVING_COLUMNS, servingColumns, servingMetrics, steadyShares, tpotOf } from './serving-metrics.js';
export type { ServingRequest, ServingSummary, ServingWindow } from './serving-schema.js';
export { ServingRequestSchema, ServingSummarySchema } from './serving-schema.js';
