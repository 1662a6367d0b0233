import { describe, expect, it } from 'vitest';
import { workerLine, workerSummary } from './__fixtures__/worker-lines.js';
import { LENGTH_COLUMNS, lengthFigures } from './length-figures.js';
import { servingColumns, servingMetrics } from './serving-metrics.js';

// Request lines and a summary as the worker writes them (older fields absent: they read as null).
const line = (index: number, input: number, output: number, extra: Record<string, unknown> = {}) =>
  workerLine(index, { input_tokens: input, output_tokens: output, ...extra });
const summaryOf = (extra: Record<string, unknown> = {}) => workerSummary({ num_errors: 1, ...extra });
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
