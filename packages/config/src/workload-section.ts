import { z } from 'zod';
import { err, type Rule, rule } from './rule.js';

// The workload's shape (issue 23): token lengths drawn from a named distribution (`lengths`, both
// engines), and the serving load's sessions (multi-turn conversations, `load.sessions`). The
// dataset's layout (prompts or conversations) is `dataset.format` (experiment-sections.ts).

const bounds = {
  min: z.number().positive().nullable().default(null).describe('draws below are raised to this'),
  max: z.number().positive().nullable().default(null).describe('draws above are lowered to this'),
};

/**
 * One distribution of positive values (token lengths, think times), seeded by `lengths.seed`. One
 * schema (`$defs/Distribution` in the JSON Schema, one dataclass per layout in the worker) wherever
 * a distribution is taken.
 */
export const DistributionSchema = z
  .discriminatedUnion('distribution', [
    z
      .strictObject({
        distribution: z.literal('fixed'),
        value: z.number().positive().describe('every value this'),
      })
      .meta({ title: 'FixedDistribution' }),
    z
      .strictObject({
        distribution: z.literal('uniform'),
        mean: z.number().positive(),
        range_ratio: z
          .number()
          .min(0)
          .lt(1)
          .describe("uniform on [mean × (1 − range_ratio), mean × (1 + range_ratio)], vLLM's random dataset"),
        ...bounds,
      })
      .meta({ title: 'UniformDistribution' }),
    z
      .strictObject({
        distribution: z.literal('normal'),
        mean: z.number().positive(),
        std: z.number().nonnegative(),
        ...bounds,
      })
      .meta({ title: 'NormalDistribution' }),
    z
      .strictObject({
        distribution: z.literal('lognormal'),
        mean: z.number().positive().describe('mean of the values (not of their logarithm)'),
        std: z.number().positive().describe('standard deviation of the values'),
        ...bounds,
      })
      .meta({ title: 'LognormalDistribution' }),
    z
      .strictObject({
        distribution: z.literal('histogram'),
        file: z
          .string()
          .min(1)
          .describe('CSV of "value,weight" lines (a header line allowed), relative to the config file'),
        ...bounds,
      })
      .meta({ title: 'HistogramDistribution' }),
  ])
  .meta({ id: 'Distribution' });

export const LengthDistributionSchema = DistributionSchema;
export type LengthDistribution = z.infer<typeof DistributionSchema>;

const fromDataset = z
  .strictObject({
    distribution: z.literal('dataset'),
    cap: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe("the dataset answer's length, at most this (and at most max_output_tokens)"),
  })
  .meta({ title: 'DatasetOutputLength' });

/** Token lengths of the prompts and answers: the dataset's, or drawn (seeded). */
export const LengthsSchema = z
  .strictObject({
    input: LengthDistributionSchema.nullable()
      .default(null)
      .describe(
        'prompt lengths (tokens) drawn from this distribution; each prompt is built to its length from the dataset text with the model tokenizer; null = the dataset prompts as they are',
      ),
    output: z
      .union([LengthDistributionSchema, fromDataset])
      .nullable()
      .default(null)
      .describe(
        'answer lengths (tokens): drawn, or {distribution: dataset} for the length of the dataset answer (a conversation dataset); null = max_output_tokens for every request',
      ),
    enforce: z
      .enum(['auto', 'min_tokens', 'ignore_eos', 'none'])
      .default('auto')
      .describe(
        'how a server is held to each drawn answer length: min_tokens (= max_tokens; vLLM), ignore_eos (vLLM), none (max_tokens only: an answer may end early); auto = min_tokens where the dialect has it, else none',
      ),
    seed: z.int().nonnegative().nullable().default(null).describe('seed of the draws; null = the experiment seed'),
  })
  .describe('token lengths of prompts and answers (issue 23)');
export type Lengths = z.infer<typeof LengthsSchema>;

export const ThinkTimeSchema = z.union([z.number().nonnegative(), DistributionSchema]);

/** Multi-turn sessions: each sends a conversation's user turns in order, with the history so far. */
export const SessionsSchema = z
  .strictObject({
    count: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('measured sessions; with load.duration_s too, whichever comes first'),
    turns: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe(
        "user turns per session; null = each conversation's own (a conversation dataset), required with a prompt dataset (consecutive prompts make a session's turns)",
      ),
    think_time_s: ThinkTimeSchema.default(0).describe(
      'pause between an answer and the next turn (s): a number, or a distribution of seconds',
    ),
  })
  .describe(
    'multi-turn sessions on the chat API: the load pattern starts sessions (closed_loop: concurrency simultaneous sessions; constant, poisson, bursty: session starts)',
  );
export type Sessions = z.infer<typeof SessionsSchema>;

/** The largest value a distribution can give, or null where it is unbounded. */
export function upperBound(d: LengthDistribution): number | null {
  if (d.distribution === 'fixed') return d.value;
  if (d.distribution === 'uniform') return Math.min(d.max ?? Number.POSITIVE_INFINITY, d.mean * (1 + d.range_ratio));
  return d.max;
}

const checkBounds = (out: Parameters<Rule['check']>[1], key: string, d: LengthDistribution | null) => {
  if (d === null || d.distribution === 'fixed') return;
  if (d.min !== null && d.max !== null && d.min > d.max) err(out, `${key}.min`, `${d.min} is above max ${d.max}`);
};

/** Drawn lengths fit the experiment's token budgets; a dataset answer length needs conversations. */
const lengthsFit: Rule['check'] = (c, out) => {
  const { input, output } = c.lengths;
  checkBounds(out, 'lengths.input', input);
  if (output !== null && output.distribution !== 'dataset') checkBounds(out, 'lengths.output', output);
  const top = input === null ? null : upperBound(input);
  if (top !== null && top > c.max_input_tokens)
    err(out, 'lengths.input', `draws reach ${top} tokens, above max_input_tokens ${c.max_input_tokens}; raise it`);
  if (output !== null && output.distribution !== 'dataset') {
    const high = upperBound(output);
    if (high !== null && high > c.max_output_tokens)
      err(
        out,
        'lengths.output',
        `draws reach ${high} tokens, above max_output_tokens ${c.max_output_tokens} (it caps every request); raise it`,
      );
  }
  if (output?.distribution === 'dataset' && !['sharegpt', 'openai_chat', 'auto'].includes(c.dataset.format))
    err(
      out,
      'lengths.output.distribution',
      `"dataset" takes each answer's length from a conversation dataset; dataset.format is "${c.dataset.format}"`,
    );
  if (output?.distribution === 'dataset' && input !== null)
    err(
      out,
      'lengths.output.distribution',
      '"dataset" takes each answer\'s length from the dataset\'s answers, and synthetic prompts (lengths.input) have none',
    );
  if (output !== null && c.engine === 'server' && c.load.max_tokens !== null)
    err(out, 'load.max_tokens', "not with lengths.output: each request's max_tokens is its drawn answer length");
  if (output !== null && c.engine === 'transformers' && c.batch_size !== 1)
    err(
      out,
      'lengths.output',
      `engine "transformers" generates a batch to one length: per-request answer lengths need batch_size 1 (it is ${c.batch_size})`,
    );
};

export const LENGTHS_RULES: readonly Rule[] = [
  rule(
    'lengths-fit',
    ['lengths', 'max_input_tokens', 'max_output_tokens', 'dataset', 'engine', 'batch_size', 'load'],
    lengthsFit,
  ),
];
