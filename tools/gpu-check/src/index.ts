export type { CheckRow, Status } from './check-rows.js';
export { BOUNDS, checkRows } from './check-rows.js';
export { runMain } from './cli.js';
export type { GpuCheckErrorCode } from './errors.js';
export { GpuCheckError } from './errors.js';
export {
  BATCH_SIZES,
  effectiveExperiments,
  experimentInputs,
  experimentsFileText,
  MODEL_PLACEHOLDER,
} from './experiments.js';
export type { KitOptions } from './kit.js';
export { runKit } from './kit.js';
export { NO_FIGURES, RESULTS_END, RESULTS_START, renderResults, spliceResults } from './render.js';
export { readReturned } from './returned.js';
export type { StepFigures } from './step-figures.js';
export { stepFigures, trapezoidJ } from './step-figures.js';
export type { SummarizeResult } from './summarize.js';
export { summarize } from './summarize.js';
