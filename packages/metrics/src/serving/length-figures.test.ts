import { describe, expect, it } from 'vitest';
import { LENGTH_COLUMNS, lengthFigures } from './length-figures.js';
import { servingColumns, servingMetrics } from './serving-metrics.js';
import { type ServingRequest, ServingRequestSchema, ServingSummarySchema } from './serving-schema.js';

// Request lines and a summary as the worker writes them (older fields absent: they read as null).
const line = (index: number, input: number, output: number, extra: Record<string, unknown> = {}): ServingRequest =>
  ServingRequestSchema.parse({
    index,
    scheduled_s: null,
    send_unix_s: 100 + index,
    first_token_unix_s: 100.2 + index,
    end_unix_s: 100.5 + index,
    ttft_s: 0.2,
    itl_s: [0.1, 0.1],
    input_tokens: input,
    output_tokens: output,
    tokens_counted: false,
    status: 200,
    error: null,
    error_kind: null,
    e2e_s: 0.5,
    ...extra,
  });
const summaryOf = (extra: Record<string, unknown> = {}) =>
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
    num_errors: 1,
    tokens_counted_requests: 0,
    whole_window: { start_unix_s: 100, end_unix_s: 106, duration_s: 6 },
    steady_window: null,
    energy_whole_j: 21,
    energy_steady_j: null,
    steady_energy_method: null,
    requests_file: 'requests-rank-0.jsonl',
    ...extra,
  });
const lengths = {
  input: { distribution: 'uniform', mean: 64, range_ratio: 0.5, min: null, max: null },
  output: { distribution: 'dataset', cap: 24 },
  enforce: 'auto',
  seed: 0,
  output_length_enforced: 'min_tokens',
  answers_missing: 1,
  input_tokens_mean: 20,
  input_tokens_std: 10,
  output_tokens_mean: 6,
  output_tokens_std: 2,
};
// 10/4, 30/8 and 20/6 tokens; a failed request's counts are left out
const requests = [
  line(0, 10, 4),
  line(1, 30, 8),
  line(2, 20, 6),
  line(3, 99, 99, { error: 'boom', error_kind: 'http', status: 500 }),
];

describe('length figures', () => {
  it('give the measured mean and population spread, how answers were held, and the prefixes', () => {
    const summary = summaryOf({ lengths, workload: 'shared_prefix', shared_prefix_tokens: 96, shared_prefix_count: 4 });
    expect(lengthFigures(requests, summary)).toEqual({
      serving_output_length_enforced: 'min_tokens',
      serving_input_tokens_mean: 20,
      serving_input_tokens_std: Math.sqrt(200 / 3),
      serving_output_tokens_mean: 6,
      serving_output_tokens_std: Math.sqrt(8 / 3),
      serving_shared_prefix_count: 4,
    });
    const columns = servingColumns(servingMetrics(requests, summary, { ttft_ms: null, tpot_ms: null }));
    for (const c of LENGTH_COLUMNS) expect(columns[c]).toEqual(lengthFigures(requests, summary)[c]);
  });

  it('read an older summary (no lengths block, no prefix count) as null where it has nothing', () => {
    const older = summaryOf({ workload: 'shared_prefix', shared_prefix_tokens: 96 });
    expect(older.lengths).toBeNull();
    const figures = lengthFigures(requests, older);
    expect(figures.serving_output_length_enforced).toBeNull();
    expect(figures.serving_shared_prefix_count).toBeNull();
    expect(figures.serving_input_tokens_mean).toBe(20); // the request lines always had their tokens
    const unset = summaryOf({ lengths: { ...lengths, output: null, output_length_enforced: null } });
    expect(lengthFigures(requests, unset).serving_output_length_enforced).toBeNull();
    expect(lengthFigures([], unset).serving_input_tokens_std).toBeNull();
  });
});
