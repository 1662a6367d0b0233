import { LENGTH_COLUMNS, type LengthFigures, lengthFigures } from './length-figures.js';
import { type ReasoningFigures, reasoningFigures } from './reasoning-figures.js';
import type { ServingRequest, ServingSummary } from './serving-schema.js';
import { SESSION_COLUMNS, type SessionFigures, sessionFigures } from './session-figures.js';

/**
 * The row's figures of the workload's shape (issue 23): reasoning apart from the answer; lengths,
 * shared prefixes and sessions. Their columns (WORKLOAD_COLUMNS) are appended at the end of the
 * result row, after every older column, so a results folder from before keeps its column order.
 */
export interface WorkloadFigures extends ReasoningFigures, SessionFigures, LengthFigures {}

export function workloadFigures(requests: readonly ServingRequest[], summary: ServingSummary): WorkloadFigures {
  return {
    ...reasoningFigures(requests, summary.energy_whole_j),
    ...sessionFigures(requests, summary),
    ...lengthFigures(requests, summary),
  };
}

/** The CSV columns of the workload figures (appended at the end of RESULT_COLUMNS; empty for transformers rows). */
export const WORKLOAD_COLUMNS = [
  'serving_reasoning_tokens_mean',
  'serving_answer_tokens_mean',
  'serving_reasoning_share',
  'serving_answer_ttft_mean_s',
  'serving_energy_per_answer_j',
  'serving_energy_per_answer_token_j',
  ...SESSION_COLUMNS,
  ...LENGTH_COLUMNS,
] as const satisfies readonly (keyof WorkloadFigures)[];
export type WorkloadColumn = (typeof WORKLOAD_COLUMNS)[number];
