import { z } from 'zod';

// What the serving engine's worker writes beside rank-0.json (issue 15): one line per measured
// request (requests-rank-0.jsonl) and the load's summary (serving-rank-0.json).

const seconds = () => z.number().nonnegative();
const nullableInt = () => z.int().nonnegative().nullable();

/**
 * One measured request. Times are unix seconds. `itl_s` are per token: a chunk of k tokens after a
 * gap g gives k gaps of g/k (the first chunk's further tokens: gaps of 0); `chunk_gaps_s` and
 * `chunk_tokens` are the chunks as they came, `itl_source` where their token counts came from. The
 * fields after `error_kind` came later: files written before them read as empty.
 */
export const ServingRequestSchema = z.object({
  index: z.int().nonnegative(),
  scheduled_s: z.number().nonnegative().nullable(),
  send_unix_s: z.number(),
  first_token_unix_s: z.number().nullable(),
  end_unix_s: z.number().nullable(),
  ttft_s: seconds().nullable(),
  itl_s: z.array(seconds()),
  input_tokens: nullableInt(),
  output_tokens: nullableInt(),
  tokens_counted: z.boolean(),
  status: z.int().nullable(),
  error: z.string().nullable(),
  error_kind: z.string().nullable(),
  reasoning_tokens: nullableInt().default(null),
  chunk_gaps_s: z.array(seconds()).default([]),
  chunk_tokens: z.array(z.int().positive()).default([]),
  itl_source: z.enum(['usage', 'chunks']).nullable().default(null),
  send_lag_s: seconds().nullable().default(null),
  e2e_s: seconds().nullable(),
  // issue 23: reasoning apart from the answer (chat API; null on completions and in older files)
  answer_tokens: nullableInt().default(null),
  reasoning_source: z.enum(['usage', 'stream', 'tokenizer']).nullable().default(null),
  first_answer_unix_s: z.number().nullable().default(null),
  answer_ttft_s: seconds().nullable().default(null),
  // issue 23: multi-turn sessions (session from 0 in start order, turn from 1) and each request's
  // share of the window's energy (the summary's energy_attribution); null outside sessions / in older files
  session: z.int().nonnegative().nullable().default(null),
  turn: z.int().positive().nullable().default(null),
  energy_j: z.number().nonnegative().nullable().default(null),
});
export type ServingRequest = z.output<typeof ServingRequestSchema>;

const WindowSchema = z.object({ start_unix_s: z.number(), end_unix_s: z.number(), duration_s: seconds() });
export type ServingWindow = z.output<typeof WindowSchema>;

const count = () => z.number().nonnegative().nullable();

/**
 * The server's own Prometheus metrics over the load (server-metrics-rank-0.jsonl summed up): gauges
 * averaged over the reads inside the steady window, counters differenced from the load's first read
 * to its last. `read` false: the server has none (`note` says why), every figure null.
 */
export const ServerMetricsSchema = z.object({
  url: z.string(),
  read: z.boolean(),
  note: z.string().nullable(),
  samples: z.int().nonnegative(),
  running_mean: count(),
  waiting_mean: count(),
  kv_cache_usage_mean: count(),
  prefix_cache_hits: count(),
  prefix_cache_queries: count(),
  generation_tokens: count(),
  ttft_mean_s: count(),
  ttft_requests: count(),
});
export type ServerMetrics = z.output<typeof ServerMetricsSchema>;

/** One turn index of a session load: its requests, and their mean input tokens, energy and TTFT. */
const SessionTurnSchema = z.object({
  turn: z.int().positive(),
  requests: z.int().nonnegative(),
  errors: z.int().nonnegative(),
  input_tokens_mean: count(),
  energy_j_mean: count(),
  ttft_mean_s: count(),
});

/**
 * A multi-turn load (`load.sessions`): sessions started and completed (every turn of its script
 * answered), those that were not (cut by `load.duration_s` or a failed turn), the think time asked
 * for (a number or a distribution) and the mean waited, and per turn index its figures.
 */
export const SessionsSummarySchema = z.object({
  count: z.int().positive().nullable(),
  turns: z.int().positive().nullable(),
  think_time_s: z.union([z.number().nonnegative(), z.record(z.string(), z.unknown())]),
  started: z.int().nonnegative(),
  completed: z.int().nonnegative(),
  incomplete: z.array(z.int().nonnegative()),
  turns_per_session_mean: count(),
  think_time_waited_mean_s: count(),
  ran_out: z.boolean(),
  per_turn: z.array(SessionTurnSchema),
});
export type SessionsSummary = z.output<typeof SessionsSummarySchema>;

/**
 * The token lengths of the workload (issue 23, `lengths`): the distributions asked for (null = the
 * dataset's prompts / max_output_tokens), how answers were held to their lengths (`min_tokens`,
 * `ignore_eos`, `none`; null where `lengths.output` is unset), conversation answers missing (given the
 * cap), and the measured requests' input and output token mean and population standard deviation.
 */
export const LengthsSummarySchema = z.object({
  input: z.record(z.string(), z.unknown()).nullable(),
  output: z.record(z.string(), z.unknown()).nullable(),
  enforce: z.enum(['auto', 'min_tokens', 'ignore_eos', 'none']),
  seed: z.int().nonnegative().nullable(),
  output_length_enforced: z.enum(['min_tokens', 'ignore_eos', 'none']).nullable(),
  answers_missing: z.int().nonnegative().nullable(),
  input_tokens_mean: count(),
  input_tokens_std: count(),
  output_tokens_mean: count(),
  output_tokens_std: count(),
});
export type LengthsSummary = z.output<typeof LengthsSummarySchema>;

/**
 * The load's summary: its windows and their energy. The steady window's energy is `counters_sampled`
 * (the backend's counters sampled through the load, interpolated at the window's edges) where the
 * backend reads counters mid-span (NVML with energy counters, RAPL); else the whole window's prorated
 * by time, an estimate kept in `energy_steady_prorated_j` (files written before it kept it in
 * `energy_steady_j`, with the method saying so).
 */
export const ServingSummarySchema = z.object({
  schema_version: z.literal(1),
  engine: z.literal('server'),
  url: z.string(),
  api: z.enum(['completions', 'chat']),
  pattern: z.enum(['closed_loop', 'constant', 'poisson', 'bursty', 'trace']),
  concurrency: z.int().positive().nullable(),
  rate: z.number().positive().nullable(),
  devices: z.array(z.int().nonnegative()).nullable(),
  warmup_requests: z.int().nonnegative(),
  num_requests: z.int().nonnegative(),
  num_errors: z.int().nonnegative(),
  tokens_counted_requests: z.int().nonnegative(),
  whole_window: WindowSchema,
  steady_window: WindowSchema.nullable(),
  energy_whole_j: z.number().nonnegative().nullable(),
  energy_steady_j: z.number().nonnegative().nullable(),
  steady_energy_method: z.enum(['counters_sampled', 'prorated_by_time']).nullable(),
  requests_file: z.string(),
  // issue 22; files written before read as empty
  energy_steady_prorated_j: z.number().nonnegative().nullable().default(null),
  prompt_reuse: z.boolean().nullable().default(null),
  workload: z.enum(['distinct', 'reuse', 'shared_prefix']).nullable().default(null),
  shared_prefix_tokens: z.int().positive().nullable().default(null),
  prompts: z.int().nonnegative().nullable().default(null),
  prompts_ran_out: z.boolean().nullable().default(null),
  steady_ok: z.boolean().nullable().default(null),
  steady_ok_reason: z.string().nullable().default(null),
  server_metrics: ServerMetricsSchema.nullable().default(null),
  client_cpu_s: seconds().nullable().default(null),
  energy_scope: z.enum(['server_devices', 'host']).nullable().default(null),
  // issue 23: how each request's energy_j was found (the worker's energy_attribution.py), the sessions
  energy_attribution: z.enum(['in_flight_share']).nullable().default(null),
  energy_attribution_source: z.enum(['timeline', 'prorated_by_time']).nullable().default(null),
  sessions: SessionsSummarySchema.nullable().default(null),
  // issue 23: the prefixes of the shared-prefix workload (null otherwise), the lengths block
  shared_prefix_count: z.int().positive().nullable().default(null),
  lengths: LengthsSummarySchema.nullable().default(null),
});
export type ServingSummary = z.output<typeof ServingSummarySchema>;
