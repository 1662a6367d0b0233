import { mean } from '../numbers.js';
import type { ServingRequest, ServingSummary } from './serving-schema.js';

/**
 * The workload's token lengths (issue 23, `lengths`) and shared prefixes (`load.shared_prefix_count`).
 * The lengths' mean and spread are the measured requests' own (the server's usage counts, successful
 * requests), so a drawn distribution can be checked against what the server saw; the row says how
 * answers were held to their drawn lengths.
 */
export interface LengthFigures {
  /** `min_tokens` | `ignore_eos` | `none`; null where `lengths.output` is unset (and in older files). */
  serving_output_length_enforced: string | null;
  /** Mean input tokens per request. */
  serving_input_tokens_mean: number | null;
  /** Population standard deviation of the input tokens per request. */
  serving_input_tokens_std: number | null;
  /** Mean output tokens per request. */
  serving_output_tokens_mean: number | null;
  /** Population standard deviation of the output tokens per request. */
  serving_output_tokens_std: number | null;
  /** Distinct shared prefixes of the shared-prefix workload; null for other workloads and older files. */
  serving_shared_prefix_count: number | null;
}

function std(values: readonly number[]): number | null {
  const m = mean(values);
  if (m === null) return null;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length);
}

export function lengthFigures(requests: readonly ServingRequest[], summary: ServingSummary): LengthFigures {
  const good = requests.filter((r) => r.error === null && r.end_unix_s !== null);
  const tokens = (pick: (r: ServingRequest) => number | null) => good.map(pick).filter((v): v is number => v !== null);
  const input = tokens((r) => r.input_tokens);
  const output = tokens((r) => r.output_tokens);
  return {
    serving_output_length_enforced: summary.lengths?.output_length_enforced ?? null,
    serving_input_tokens_mean: mean(input),
    serving_input_tokens_std: std(input),
    serving_output_tokens_mean: mean(output),
    serving_output_tokens_std: std(output),
    serving_shared_prefix_count: summary.workload === 'shared_prefix' ? summary.shared_prefix_count : null,
  };
}

/** The columns of the length figures (in WORKLOAD_COLUMNS). */
export const LENGTH_COLUMNS = [
  'serving_output_length_enforced',
  'serving_input_tokens_mean',
  'serving_input_tokens_std',
  'serving_output_tokens_mean',
  'serving_output_tokens_std',
  'serving_shared_prefix_count',
] as const satisfies readonly (keyof LengthFigures)[];
