import { mean, ratio, sum } from '../numbers.js';
import type { ServingRequest } from './serving-schema.js';

/**
 * Reasoning apart from the answer (issue 23), where the server separates them (chat deltas'
 * `reasoning_content` / `reasoning`; the worker's answer_tokens.py says how each request's count was
 * found). Null on the completions API, and in files written before.
 */
export interface ReasoningFigures {
  /** Mean reasoning tokens per successful request. */
  serving_reasoning_tokens_mean: number | null;
  /** Mean answer tokens (output − reasoning) per successful request. */
  serving_answer_tokens_mean: number | null;
  /** Reasoning tokens / output tokens. */
  serving_reasoning_share: number | null;
  /** Mean wait for the answer's first chunk (after any reasoning); TTFT is the first token of either. */
  serving_answer_ttft_mean_s: number | null;
  /** The window's energy per successful answer (reasoning included): what one answer costs. */
  serving_energy_per_answer_j: number | null;
  /** The window's energy per answer token: reasoning is paid for by the tokens a reader gets. */
  serving_energy_per_answer_token_j: number | null;
}

export function reasoningFigures(requests: readonly ServingRequest[], energyJ: number | null): ReasoningFigures {
  const good = requests.filter((r) => r.error === null && r.end_unix_s !== null);
  const split = good.filter((r) => r.reasoning_tokens !== null && r.answer_tokens !== null);
  if (split.length === 0)
    return {
      serving_reasoning_tokens_mean: null,
      serving_answer_tokens_mean: null,
      serving_reasoning_share: null,
      serving_answer_ttft_mean_s: null,
      serving_energy_per_answer_j: null,
      serving_energy_per_answer_token_j: null,
    };
  const reasoning = split.map((r) => r.reasoning_tokens!);
  const answers = split.map((r) => r.answer_tokens!);
  const waits = split.map((r) => r.answer_ttft_s).filter((v): v is number => v !== null);
  return {
    serving_reasoning_tokens_mean: mean(reasoning),
    serving_answer_tokens_mean: mean(answers),
    serving_reasoning_share: ratio(sum(reasoning), sum(reasoning) + sum(answers)),
    serving_answer_ttft_mean_s: mean(waits),
    serving_energy_per_answer_j: ratio(energyJ, split.length),
    serving_energy_per_answer_token_j: ratio(energyJ, sum(answers)),
  };
}
