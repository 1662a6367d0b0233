export { ServingRequestSchema, ServingSummarySchema } from './serving-schema.js';
export type { ServingRequest, ServingSummary, ServingWindow } from './serving-schema.js';
export { servingMetrics, servingColumns, meetsSlo, tpotOf, steadyShares, SERVING_COLUMNS } from './serving-metrics.js';
export type { ServingMetrics, ServingSlo, ServingColumn } from './serving-metrics.js';
