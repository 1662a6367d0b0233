import { type Distribution, distribution, JOULES_PER_WH, ratio, sum } from '../numbers.js';
import { type ClientFigures, clientFigures } from './client-figures.js';
import { type ServerFigures, serverFigures, steadyJoules } from './server-figures.js';
import type { ServingRequest, ServingSummary, ServingWindow } from './serving-schema.js';
import { type WorkloadColumn, type WorkloadFigures, workloadFigures } from './workload-figures.js';

/** Service-level objectives (ms); null = not part of the objective. */
export interface ServingSlo {
  ttft_ms: number | null;
  tpot_ms: number | null;
}

/** The serving engine's figures of one experiment. Every value finite or null. */
export interface ServingMetrics extends ClientFigures, ServerFigures, WorkloadFigures {
  load_pattern: string;
  load_concurrency: number | null;
  load_rate: number | null;
  serving_requests: number;
  serving_errors: number;
  serving_error_share: number | null;
  serving_tokens_counted: boolean;
  serving_window_s: number;
  serving_steady_window_s: number | null;
  serving_output_tokens: number;
  serving_output_tokens_per_s: number | null;
  serving_requests_per_s: number | null;
  serving_steady_output_tokens_per_s: number | null;
  ttft: Distribution;
  itl: Distribution;
  tpot: Distribution;
  e2e: Distribution;
  serving_energy_per_token_j: number | null;
  serving_energy_per_request_j: number | null;
  serving_steady_energy_per_token_j: number | null;
  serving_steady_energy_per_request_j: number | null;
  serving_wh_per_1k_queries: number | null;
  serving_goodput_share: number | null;
  serving_goodput_requests_per_s: number | null;
  serving_energy_per_good_request_j: number | null;
  /** Requests that met the SLO: 0 = none did (the goodput energy is then empty too); null = no SLO set. */
  serving_good_requests: number | null;
  /** How the steady window's joules were found: `counters_sampled` (measured) or `prorated_by_time`. */
  serving_steady_energy_method: string | null;
}

const ok = (r: ServingRequest) => r.error === null && r.end_unix_s !== null;

/** Time per output token after the first: (end − first token) / (output tokens − 1). */
export function tpotOf(r: ServingRequest): number | null {
  if (!ok(r) || r.first_token_unix_s === null || r.output_tokens === null || r.output_tokens < 2) return null;
  return Math.max(r.end_unix_s! - r.first_token_unix_s, 0) / (r.output_tokens - 1);
}

/** Whether a successful request meets the SLO (a request with under 2 tokens meets any TPOT bound). */
export function meetsSlo(r: ServingRequest, slo: ServingSlo): boolean {
  if (!ok(r)) return false;
  if (slo.ttft_ms !== null && (r.ttft_s === null || r.ttft_s * 1000 > slo.ttft_ms)) return false;
  const tpot = tpotOf(r);
  return slo.tpot_ms === null || tpot === null || tpot * 1000 <= slo.tpot_ms;
}

const overlap = (a0: number, a1: number, w: ServingWindow) =>
  Math.max(0, Math.min(a1, w.end_unix_s) - Math.max(a0, w.start_unix_s));

/**
 * Output tokens and (fractional) requests inside the steady window. A request's tokens are taken
 * as spread evenly from its first token to its end (its first token counted at its first-token
 * time), a request as spread evenly over its send-to-end span.
 */
export function steadyShares(
  requests: readonly ServingRequest[],
  w: ServingWindow,
): { tokens: number; requests: number } {
  let tokens = 0;
  let reqs = 0;
  for (const r of requests.filter(ok)) {
    const end = r.end_unix_s!;
    const span = end - r.send_unix_s;
    reqs +=
      span > 0
        ? overlap(r.send_unix_s, end, w) / span
        : r.send_unix_s >= w.start_unix_s && r.send_unix_s <= w.end_unix_s
          ? 1
          : 0;
    const out = r.output_tokens ?? 0;
    const first = r.first_token_unix_s;
    if (out === 0 || first === null) continue;
    if (first >= w.start_unix_s && first <= w.end_unix_s) tokens += 1;
    const decode = end - first;
    if (out > 1 && decode > 0) tokens += ((out - 1) * overlap(first, end, w)) / decode;
  }
  return { tokens, requests: reqs };
}

/** The serving metrics of one experiment from its requests and load summary (pure). */
export function servingMetrics(
  requests: readonly ServingRequest[],
  summary: ServingSummary,
  slo: ServingSlo,
): ServingMetrics {
  const good = requests.filter(ok);
  const whole = summary.whole_window.duration_s;
  const outTokens = sum(good.map((r) => r.output_tokens ?? 0));
  const energy = summary.energy_whole_j;
  const steady = summary.steady_window;
  const shares = steady ? steadyShares(requests, steady) : null;
  const steadyJ = steadyJoules(summary).measured; // counter-sampled only; a prorated estimate has its own column
  const sloSet = slo.ttft_ms !== null || slo.tpot_ms !== null;
  const meeting = sloSet ? requests.filter((r) => meetsSlo(r, slo)).length : null;
  const numbers = (f: (r: ServingRequest) => number | null) => good.map(f).filter((v): v is number => v !== null);
  return {
    load_pattern: summary.pattern,
    load_concurrency: summary.concurrency,
    load_rate: summary.rate,
    serving_requests: requests.length,
    serving_errors: requests.length - good.length,
    serving_error_share: ratio(requests.length - good.length, requests.length),
    serving_tokens_counted: requests.some((r) => r.tokens_counted),
    serving_window_s: whole,
    serving_steady_window_s: steady?.duration_s ?? null,
    serving_output_tokens: outTokens,
    serving_output_tokens_per_s: ratio(outTokens, whole),
    serving_requests_per_s: ratio(good.length, whole),
    serving_steady_output_tokens_per_s: shares && steady ? ratio(shares.tokens, steady.duration_s) : null,
    ttft: distribution(numbers((r) => r.ttft_s)),
    itl: distribution(good.flatMap((r) => r.itl_s)),
    tpot: distribution(numbers(tpotOf)),
    e2e: distribution(numbers((r) => r.end_unix_s! - r.send_unix_s)),
    serving_energy_per_token_j: ratio(energy, outTokens),
    serving_energy_per_request_j: ratio(energy, good.length),
    serving_steady_energy_per_token_j: shares ? ratio(steadyJ, shares.tokens) : null,
    serving_steady_energy_per_request_j: shares ? ratio(steadyJ, shares.requests) : null,
    serving_wh_per_1k_queries: energy === null ? null : ratio((energy / JOULES_PER_WH) * 1000, good.length),
    serving_goodput_share: meeting === null ? null : ratio(meeting, requests.length),
    serving_goodput_requests_per_s: meeting === null ? null : ratio(meeting, whole),
    serving_energy_per_good_request_j: meeting === null ? null : ratio(energy, meeting),
    serving_good_requests: meeting,
    serving_steady_energy_method:
      summary.energy_steady_j === null && summary.energy_steady_prorated_j === null
        ? null
        : summary.steady_energy_method,
    ...clientFigures(requests),
    ...serverFigures(summary),
    ...workloadFigures(requests, summary),
  };
}

/** The CSV columns of the serving metrics (appended to RESULT_COLUMNS; empty for transformers rows). */
export const SERVING_COLUMNS = [
  'engine',
  'load_pattern',
  'load_concurrency',
  'load_rate',
  'serving_requests',
  'serving_errors',
  'serving_error_share',
  'serving_tokens_counted',
  'serving_window_s',
  'serving_steady_window_s',
  'serving_output_tokens',
  'serving_output_tokens_per_s',
  'serving_requests_per_s',
  'serving_steady_output_tokens_per_s',
  'serving_ttft_mean_s',
  'serving_ttft_p50_s',
  'serving_ttft_p90_s',
  'serving_ttft_p99_s',
  'serving_itl_mean_s',
  'serving_itl_p50_s',
  'serving_itl_p90_s',
  'serving_itl_p99_s',
  'serving_tpot_mean_s',
  'serving_tpot_p50_s',
  'serving_tpot_p90_s',
  'serving_tpot_p99_s',
  'serving_e2e_mean_s',
  'serving_e2e_p50_s',
  'serving_e2e_p90_s',
  'serving_e2e_p99_s',
  'serving_energy_per_token_j',
  'serving_energy_per_request_j',
  'serving_steady_energy_per_token_j',
  'serving_steady_energy_per_request_j',
  'serving_wh_per_1k_queries',
  'serving_goodput_share',
  'serving_goodput_requests_per_s',
  'serving_energy_per_good_request_j',
  'serving_steady_energy_method',
  'serving_send_lag_p99_s',
  'serving_client_behind',
  'serving_itl_source',
  'serving_prompt_reuse',
  'serving_workload',
  'serving_steady_ok',
  'serving_steady_ok_reason',
  'serving_server_running_mean',
  'serving_server_kv_cache_usage_mean',
  'serving_server_prefix_cache_hits',
  'serving_server_prefix_cache_queries',
  'serving_server_prefix_cache_hit_rate',
  'serving_server_ttft_mean_s',
  'serving_server_metrics',
  'serving_client_cpu_s',
  'serving_steady_energy_prorated_j',
  'serving_energy_scope',
  'serving_good_requests',
] as const;
export type ServingColumn = (typeof SERVING_COLUMNS)[number];

/** The serving metrics as flat column values (`engine` is "server"). */
export function servingColumns(
  m: ServingMetrics,
): Record<ServingColumn | WorkloadColumn, string | number | boolean | null> {
  const { ttft, itl, tpot, e2e, ...flat } = m;
  const dist = (name: string, d: Distribution) =>
    Object.fromEntries((['mean', 'p50', 'p90', 'p99'] as const).map((k) => [`serving_${name}_${k}_s`, d[k]]));
  return {
    engine: 'server',
    ...flat,
    ...dist('ttft', ttft),
    ...dist('itl', itl),
    ...dist('tpot', tpot),
    ...dist('e2e', e2e),
  } as Record<ServingColumn | WorkloadColumn, string | number | boolean | null>;
}
