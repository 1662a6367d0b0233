import {
  type ServingRequest,
  ServingRequestSchema,
  type ServingSummary,
  ServingSummarySchema,
} from '../serving-schema.js';

// Request lines and a load summary as the worker writes them, for the serving figures' tests: the
// fields a test does not give take these values (newer fields absent: they read as null).

/** Request `index`: sent at 100 + index, first token 0.2 s later, ended 0.5 s after sending. */
export const workerLine = (index: number, extra: Record<string, unknown> = {}): ServingRequest =>
  ServingRequestSchema.parse({
    index,
    scheduled_s: null,
    send_unix_s: 100 + index,
    first_token_unix_s: 100.2 + index,
    end_unix_s: 100.5 + index,
    ttft_s: 0.2,
    itl_s: [0.1, 0.1],
    input_tokens: 10,
    output_tokens: 3,
    tokens_counted: false,
    status: 200,
    error: null,
    error_kind: null,
    e2e_s: 0.5,
    ...extra,
  });

/** A closed loop of 2 users over [100, 106] s with 21 J, no steady window. */
export const workerSummary = (extra: Record<string, unknown> = {}): ServingSummary =>
  ServingSummarySchema.parse({
    schema_version: 1,
    engine: 'server',
    url: 'http://h',
    api: 'completions',
    pattern: 'closed_loop',
    concurrency: 2,
    rate: null,
    devices: [],
    warmup_requests: 1,
    num_requests: 4,
    num_errors: 0,
    tokens_counted_requests: 0,
    whole_window: { start_unix_s: 100, end_unix_s: 106, duration_s: 6 },
    steady_window: null,
    energy_whole_j: 21,
    energy_steady_j: null,
    steady_energy_method: null,
    requests_file: 'requests-rank-0.jsonl',
    ...extra,
  });
