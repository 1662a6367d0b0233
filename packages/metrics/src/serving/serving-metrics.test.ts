import { describe, expect, it } from 'vitest';
import { parseResultRecord, RESULT_COLUMNS, toResultRecord } from '../result-record.js';
import { meetsSlo, SERVING_COLUMNS, servingColumns, servingMetrics, steadyShares, tpotOf } from './serving-metrics.js';
import {
  type ServingRequest,
  ServingRequestSchema,
  type ServingSummary,
  ServingSummarySchema,
} from './serving-schema.js';
import { WORKLOAD_COLUMNS } from './workload-figures.js';

const req = (
  index: number,
  send: number,
  first: number,
  end: number,
  out: number,
  extra: Partial<ServingRequest> = {},
): ServingRequest => ({
  index,
  scheduled_s: null,
  send_unix_s: send,
  first_token_unix_s: first,
  end_unix_s: end,
  ttft_s: first - send,
  itl_s: out > 1 ? Array.from({ length: out - 1 }, () => (end - first) / (out - 1)) : [],
  input_tokens: 10,
  output_tokens: out,
  tokens_counted: false,
  status: 200,
  error: null,
  error_kind: null,
  reasoning_tokens: null,
  chunk_gaps_s: [],
  chunk_tokens: [],
  itl_source: null,
  send_lag_s: null,
  e2e_s: end - send,
  answer_tokens: null,
  reasoning_source: null,
  first_answer_unix_s: null,
  answer_ttft_s: null,
  session: null,
  turn: null,
  energy_j: null,
  ...extra,
});
const win = (a: number, b: number) => ({ start_unix_s: a, end_unix_s: b, duration_s: b - a });
const summary = (over: Partial<ServingSummary> = {}): ServingSummary => ({
  schema_version: 1,
  engine: 'server',
  url: 'http://h',
  api: 'completions',
  pattern: 'closed_loop',
  concurrency: 2,
  rate: null,
  devices: [],
  warmup_requests: 1,
  num_requests: 3,
  num_errors: 0,
  tokens_counted_requests: 0,
  whole_window: win(100, 104),
  steady_window: win(101, 103),
  energy_whole_j: 40,
  energy_steady_j: 20,
  steady_energy_method: 'counters_sampled',
  requests_file: 'requests-rank-0.jsonl',
  energy_steady_prorated_j: null,
  prompt_reuse: false,
  workload: 'distinct',
  shared_prefix_tokens: null,
  prompts: 8,
  prompts_ran_out: false,
  steady_ok: false,
  steady_ok_reason: "steady window 2.0 s < 20 s (ML.ENERGY's minimum)",
  server_metrics: null,
  client_cpu_s: 0.5,
  energy_scope: 'server_devices',
  energy_attribution: null,
  energy_attribution_source: null,
  sessions: null,
  shared_prefix_count: null,
  lengths: null,
  ...over,
});
// Three requests over [100, 104]: 5 + 3 output tokens ok, one HTTP 503.
const requests = [
  req(0, 100, 100.5, 102.5, 5),
  req(1, 100, 101, 104, 3),
  req(2, 102.5, 102.5, 102.5, 0, {
    error: 'HTTP 503',
    error_kind: 'http',
    status: 503,
    first_token_unix_s: null,
    ttft_s: null,
    output_tokens: null,
    itl_s: [],
  }),
];

describe('servingMetrics', () => {
  const m = servingMetrics(requests, summary(), { ttft_ms: 700, tpot_ms: null });

  it('throughput, errors and energy per token / request over the whole window', () => {
    expect(m.serving_requests).toBe(3);
    expect(m.serving_errors).toBe(1);
    expect(m.serving_output_tokens).toBe(8);
    expect(m.serving_output_tokens_per_s).toBeCloseTo(8 / 4);
    expect(m.serving_requests_per_s).toBeCloseTo(2 / 4);
    expect(m.serving_energy_per_token_j).toBeCloseTo(40 / 8);
    expect(m.serving_energy_per_request_j).toBeCloseTo(20);
    expect(m.serving_wh_per_1k_queries).toBeCloseTo((40 / 3600) * 500);
  });

  it('latency distributions: TTFT, TPOT (after the first token), ITL, end to end', () => {
    expect(m.ttft.mean).toBeCloseTo(0.75);
    expect(m.ttft.p50).toBeCloseTo(0.75);
    expect(tpotOf(requests[0]!)).toBeCloseTo(2 / 4);
    expect(tpotOf(requests[1]!)).toBeCloseTo(3 / 2);
    expect(m.tpot.mean).toBeCloseTo(1);
    expect(m.itl.p50).toBeCloseTo(0.5);
    expect(m.e2e.mean).toBeCloseTo(3.25);
  });

  it('goodput: the SLO share, rate and energy per request meeting it', () => {
    expect(meetsSlo(requests[0]!, { ttft_ms: 700, tpot_ms: null })).toBe(true);
    expect(meetsSlo(requests[1]!, { ttft_ms: 700, tpot_ms: null })).toBe(false); // TTFT 1 s
    expect(meetsSlo(requests[2]!, { ttft_ms: null, tpot_ms: null })).toBe(false); // an error never meets it
    expect(m.serving_goodput_share).toBeCloseTo(1 / 3);
    expect(m.serving_goodput_requests_per_s).toBeCloseTo(1 / 4);
    expect(m.serving_energy_per_good_request_j).toBeCloseTo(40);
    expect(servingMetrics(requests, summary(), { ttft_ms: null, tpot_ms: null }).serving_goodput_share).toBeNull();
  });

  it('"no request met the SLO" and "no SLO" differ: serving_good_requests 0 against empty', () => {
    const strict = servingMetrics(requests, summary(), { ttft_ms: 1, tpot_ms: null });
    expect(strict.serving_good_requests).toBe(0);
    expect(strict.serving_goodput_share).toBe(0);
    expect(strict.serving_energy_per_good_request_j).toBeNull(); // no good request: no joules per one
    const unset = servingMetrics(requests, summary(), { ttft_ms: null, tpot_ms: null });
    expect([unset.serving_good_requests, unset.serving_goodput_share]).toEqual([null, null]);
  });

  it('steady window: tokens spread from first token to end, requests over send to end', () => {
    // Request 0: first token 100.5 (outside [101, 103]), 4 more over [100.5, 102.5] → 4 × 1.5/2 = 3.
    // Request 1: first token at 101 (inside: 1), 2 more over [101, 104] → 2 × 2/3.
    const s = steadyShares(requests, win(101, 103));
    expect(s.tokens).toBeCloseTo(3 + 1 + 4 / 3);
    expect(s.requests).toBeCloseTo(1.5 / 2.5 + 2 / 4);
    expect(m.serving_steady_output_tokens_per_s).toBeCloseTo((3 + 1 + 4 / 3) / 2);
    expect(m.serving_steady_energy_per_token_j).toBeCloseTo(20 / (3 + 1 + 4 / 3));
    expect(m.serving_steady_energy_method).toBe('counters_sampled');
    expect(m.serving_steady_energy_prorated_j).toBeNull();
  });

  it('prorated steady energy has a column of its own; the steady energy columns hold measured joules only', () => {
    const none = { ttft_ms: null, tpot_ms: null };
    const prorated = summary({
      energy_steady_j: null,
      energy_steady_prorated_j: 20,
      steady_energy_method: 'prorated_by_time',
    });
    const p = servingMetrics(requests, prorated, none);
    expect(p.serving_steady_energy_prorated_j).toBe(20);
    expect([p.serving_steady_energy_per_token_j, p.serving_steady_energy_per_request_j]).toEqual([null, null]);
    expect(p.serving_steady_energy_method).toBe('prorated_by_time');
    // a file written before the split kept the estimate in energy_steady_j: read as prorated, not measured
    const older = servingMetrics(requests, summary({ steady_energy_method: 'prorated_by_time' }), none);
    expect(older.serving_steady_energy_prorated_j).toBe(20);
    expect(older.serving_steady_energy_per_token_j).toBeNull();
  });

  it('the summary names how the steady energy was found, from a fixed set', () => {
    expect(() => ServingSummarySchema.parse(summary({ steady_energy_method: 'guessed' as never }))).toThrow();
    expect(ServingSummarySchema.parse(summary()).steady_energy_method).toBe('counters_sampled');
  });

  it('no energy (unknown devices) leaves the energy figures null, never 0 or NaN', () => {
    const n = servingMetrics(requests, summary({ energy_whole_j: null, energy_steady_j: null }), {
      ttft_ms: null,
      tpot_ms: null,
    });
    expect([
      n.serving_energy_per_token_j,
      n.serving_steady_energy_per_token_j,
      n.serving_wh_per_1k_queries,
      n.serving_steady_energy_method,
    ]).toEqual([null, null, null, null]);
  });
});

describe('the client: failures, per-token ITL source, send lag', () => {
  const open = (lags: number[], gap: number, over: Partial<ServingRequest> = {}) =>
    lags.map((lag, i) =>
      req(i, 100 + i * gap + lag, 100.5 + i * gap, 101 + i * gap, 3, {
        scheduled_s: i * gap,
        send_lag_s: lag,
        ...over,
      }),
    );
  const poisson = summary({ pattern: 'poisson', concurrency: null, rate: 10 });
  const none = { ttft_ms: null, tpot_ms: null };

  it('the p99 send lag, and behind only past both 10 ms and a tenth of the mean inter-arrival time', () => {
    const lags = [...Array.from({ length: 98 }, () => 0.001), 0.5, 0.5]; // p99 (numpy's linear): 0.5
    const late = servingMetrics(open(lags, 0.1), poisson, none);
    expect(late.serving_send_lag_p99_s).toBeCloseTo(0.5);
    expect(late.serving_client_behind).toBe(true);
    // 30 ms late at p99: behind at 10 requests/s? No: a tenth of the 1 s mean gap is 100 ms.
    const slow = servingMetrics(
      open(
        Array.from({ length: 10 }, () => 0.03),
        1,
      ),
      poisson,
      none,
    );
    expect([slow.serving_send_lag_p99_s, slow.serving_client_behind]).toEqual([expect.closeTo(0.03), false]);
    // 5 ms late, 1 ms apart: under the 10 ms floor.
    expect(
      servingMetrics(
        open(
          Array.from({ length: 10 }, () => 0.005),
          0.001,
        ),
        poisson,
        none,
      ).serving_client_behind,
    ).toBe(false);
    // closed loop: no schedule, no lag
    const closed = servingMetrics(requests, summary(), none);
    expect([closed.serving_send_lag_p99_s, closed.serving_client_behind]).toEqual([null, null]);
  });

  it('serving_itl_source: usage where every request had per-chunk counts, chunks where any was counted', () => {
    const usage = open([0, 0], 1, { itl_source: 'usage' });
    expect(servingMetrics(usage, poisson, none).serving_itl_source).toBe('usage');
    const mixed = [...usage, req(2, 103, 103.5, 104, 3, { itl_source: 'chunks' })];
    expect(servingMetrics(mixed, poisson, none).serving_itl_source).toBe('chunks');
    expect(servingMetrics(requests, summary(), none).serving_itl_source).toBeNull(); // older files: not said
  });

  it('failed requests stay in the count and the error share', () => {
    const m = servingMetrics(requests, summary(), none);
    expect([m.serving_requests, m.serving_errors, m.serving_error_share]).toEqual([3, 1, 1 / 3]);
  });

  it('the request schema reads the new fields, and files written before them', () => {
    const line = {
      ...requests[0]!,
      chunk_gaps_s: [0.5],
      chunk_tokens: [1, 3],
      itl_source: 'usage',
      send_lag_s: 0.002,
      reasoning_tokens: 2,
    };
    expect(ServingRequestSchema.parse(line)).toMatchObject({
      chunk_tokens: [1, 3],
      itl_source: 'usage',
      reasoning_tokens: 2,
    });
    const { chunk_gaps_s, chunk_tokens, itl_source, send_lag_s, reasoning_tokens, ...old } = line;
    expect(ServingRequestSchema.parse(old)).toMatchObject({ chunk_gaps_s: [], itl_source: null, send_lag_s: null });
    expect(() => ServingRequestSchema.parse({ ...line, itl_source: 'guessed' })).toThrow();
  });
});

describe("the server's metrics, the workload, the steady check and the energy's scope", () => {
  const none = { ttft_ms: null, tpot_ms: null };
  const server = {
    url: 'http://h/metrics',
    read: true,
    note: null,
    samples: 12,
    running_mean: 3.5,
    waiting_mean: 0,
    kv_cache_usage_mean: 0.25,
    prefix_cache_hits: 64,
    prefix_cache_queries: 256,
    generation_tokens: 8,
    ttft_mean_s: 0.012,
    ttft_requests: 2,
  };

  it("the server's own figures beside the client's, and the prefix-cache hit rate", () => {
    const m = servingMetrics(requests, summary({ server_metrics: server }), none);
    expect(m).toMatchObject({
      serving_server_metrics: true,
      serving_server_running_mean: 3.5,
      serving_server_kv_cache_usage_mean: 0.25,
      serving_server_prefix_cache_hits: 64,
      serving_server_prefix_cache_queries: 256,
      serving_server_prefix_cache_hit_rate: 0.25,
      serving_server_ttft_mean_s: 0.012,
    });
    expect(m.ttft.mean).toBeCloseTo(0.75); // the client's, from the requests
  });

  it('a server without metrics leaves its figures empty and says it was not read', () => {
    const unread = { ...server, read: false, note: 'server telemetry: none (no Prometheus metrics at …)', samples: 0 };
    const nulls = Object.fromEntries(
      Object.keys(server)
        .filter((k) => k.endsWith('_mean') || k.startsWith('prefix') || k.startsWith('ttft'))
        .map((k) => [k, null]),
    );
    const m = servingMetrics(requests, summary({ server_metrics: { ...unread, ...nulls } as never }), none);
    expect(m.serving_server_metrics).toBe(false);
    expect([
      m.serving_server_running_mean,
      m.serving_server_prefix_cache_hit_rate,
      m.serving_server_ttft_mean_s,
    ]).toEqual([null, null, null]);
  });

  it('the workload, the steady check, the client CPU and the scope come from the summary', () => {
    const m = servingMetrics(
      requests,
      summary({ prompt_reuse: true, workload: 'reuse', steady_ok: true, steady_ok_reason: null, energy_scope: 'host' }),
      none,
    );
    expect(m).toMatchObject({
      serving_prompt_reuse: true,
      serving_workload: 'reuse',
      serving_steady_ok: true,
      serving_steady_ok_reason: null,
      serving_client_cpu_s: 0.5,
      serving_energy_scope: 'host',
    });
  });

  it('a summary written before these fields reads them as empty', () => {
    const { energy_steady_prorated_j, prompt_reuse, workload, steady_ok, server_metrics, energy_scope, ...older } =
      summary();
    const parsed = ServingSummarySchema.parse(older);
    const m = servingMetrics(requests, parsed, none);
    expect([m.serving_workload, m.serving_steady_ok, m.serving_server_metrics, m.serving_energy_scope]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});

describe('serving columns', () => {
  it('are appended at the end of RESULT_COLUMNS, after every earlier column', () => {
    // Only the model-reuse columns (issue 14), the GPU settings (issue 25) and the workload's figures
    // (issue 23) were appended after them.
    const after = 4 + WORKLOAD_COLUMNS.length;
    expect(RESULT_COLUMNS.slice(-SERVING_COLUMNS.length - after, -after)).toEqual([...SERVING_COLUMNS]);
    expect(RESULT_COLUMNS.slice(-after, -WORKLOAD_COLUMNS.length)).toEqual([
      'model_reused',
      'model_load_s',
      'gpu_power_limit_w',
      'gpu_sm_clock_mhz',
    ]);
    expect(RESULT_COLUMNS.slice(-WORKLOAD_COLUMNS.length)).toEqual([...WORKLOAD_COLUMNS]);
    expect(RESULT_COLUMNS.indexOf('throttling_observed')).toBeLessThan(RESULT_COLUMNS.indexOf('engine'));
  });

  it('fill a row and survive the CSV round trip; a transformers row leaves them empty', () => {
    const cols = servingColumns(servingMetrics(requests, summary(), { ttft_ms: 700, tpot_ms: null }));
    expect(Object.keys(cols).sort()).toEqual([...SERVING_COLUMNS, ...WORKLOAD_COLUMNS].sort());
    const id = {
      experiment_id: '1',
      config_name: 'c',
      model_name: 'm',
      suite: null,
      cycle_id: null,
      task_type: 'text_generation',
      num_processes: 1,
      batch_size: 1,
      precision: 'fp32',
      config_hash: 'h',
    };
    const row = toResultRecord(id, cols as never);
    expect(row.engine).toBe('server');
    expect(row.serving_output_tokens_per_s).toBeCloseTo(2);
    const text = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]));
    expect(parseResultRecord(text).serving_tokens_counted).toBe(false);
    expect(parseResultRecord(text).load_pattern).toBe('closed_loop');
    expect(parseResultRecord(text).serving_steady_energy_method).toBe('counters_sampled');
    expect(parseResultRecord(text)).toMatchObject({
      serving_workload: 'distinct',
      serving_prompt_reuse: false,
      serving_steady_ok: false,
      serving_energy_scope: 'server_devices',
      serving_client_cpu_s: 0.5,
      serving_good_requests: 1,
    });
    const lagged = toResultRecord(id, { ...cols, serving_client_behind: true, serving_itl_source: 'usage' } as never);
    const lagText = Object.fromEntries(Object.entries(lagged).map(([k, v]) => [k, v === null ? '' : String(v)]));
    expect(parseResultRecord(lagText)).toMatchObject({ serving_client_behind: true, serving_itl_source: 'usage' });
    const plain = toResultRecord(id, {} as never);
    expect([...SERVING_COLUMNS, ...WORKLOAD_COLUMNS].map((c) => plain[c])).toEqual(
      [...SERVING_COLUMNS, ...WORKLOAD_COLUMNS].map(() => null),
    );
  });

  it('the schemas accept what the worker writes', () => {
    expect(ServingRequestSchema.parse(requests[2])).toMatchObject({ status: 503 });
    expect(ServingSummarySchema.safeParse(summary()).success).toBe(true);
  });
});

describe('reasoning apart from the answer (issue 23)', () => {
  const thinking = (i: number, reasoning: number, answer: number) =>
    req(i, 0, 0.1, 1, reasoning + answer, {
      reasoning_tokens: reasoning,
      answer_tokens: answer,
      reasoning_source: 'stream',
      answer_ttft_s: 0.5,
    });

  it('counts reasoning and answer tokens apart, and the energy per answer and per answer token', () => {
    const rs = [thinking(0, 30, 10), thinking(1, 10, 10), req(2, 0, 0.1, 1, 5, { error: 'x', end_unix_s: null })];
    const m = servingMetrics(rs, summary({ api: 'chat', energy_whole_j: 120 }), { ttft_ms: null, tpot_ms: null });
    expect(m).toMatchObject({
      serving_reasoning_tokens_mean: 20,
      serving_answer_tokens_mean: 10,
      serving_reasoning_share: 40 / 60,
      serving_answer_ttft_mean_s: 0.5,
      serving_energy_per_answer_j: 60,
      serving_energy_per_answer_token_j: 6,
    });
    expect(m.serving_energy_per_token_j).toBe(2); // per output token, reasoning included
  });

  it('says nothing where the server does not separate them (completions, older files)', () => {
    const m = servingMetrics(requests, summary(), { ttft_ms: null, tpot_ms: null });
    expect(WORKLOAD_COLUMNS.filter((c) => c.includes('reasoning') || c.includes('answer')).map((c) => m[c])).toEqual(
      WORKLOAD_COLUMNS.filter((c) => c.includes('reasoning') || c.includes('answer')).map(() => null),
    );
  });
});
