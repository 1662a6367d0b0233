import { z } from 'zod';
import { nameSchema } from './experiment-schema.js';

/** A result-table column name (e.g. `serving_ttft_p90_s`); that it is a numeric column is checked after the schema. */
const columnSchema = () =>
  z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'expected a results column name such as "serving_ttft_p90_s"')
    .describe('a numeric column of the results table (RESULT_COLUMNS)');

/** `serving_ttft_p90_s <= 0.5`: a column, an operator (<=, >=, ≤, ≥) and a number. */
export const CONSTRAINT_PATTERN =
  /^\s*([a-z_][a-z0-9_]*)\s*(<=|>=|≤|≥)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

export const ConstraintSchema = z
  .union(
    [
      z.string().regex(CONSTRAINT_PATTERN, 'expected "<column> <= <number>" or "<column> >= <number>"'),
      z.strictObject({
        column: columnSchema(),
        op: z.enum(['<=', '>=']).describe('<=: the column must be at most value; >=: at least value'),
        value: z.number().describe('the bound, in the column unit (seconds for *_s columns)'),
      }),
    ],
    { error: 'expected "<column> <= <number>", or a mapping with column, op and value' },
  )
  .describe('an SLO on a results column, met by the mean over cycles, e.g. "serving_ttft_p90_s <= 0.5"');

/** A numeric range of axis values: `steps` values from `from` to `to` (both included), or every `step`. */
export const RangeSchema = z
  .strictObject({
    from: z.number().describe('first value'),
    to: z.number().describe('last value (included when the steps land on it)'),
    steps: z.int().min(2).max(1000).optional().describe('how many values from `from` to `to`, both included'),
    step: z.number().positive().optional().describe('linear scale: the distance between values (instead of steps)'),
    scale: z.enum(['linear', 'log']).default('linear').describe('log: values spaced evenly on a log scale'),
  })
  .describe('a numeric axis as a range; integer ends give integer values (rounded, duplicates dropped)');

const SearchAxisSchema = z
  .union([z.array(z.unknown()), RangeSchema, z.record(nameSchema(), z.unknown())], {
    error: 'expected a list of values, a range ({from, to, steps}), or a mapping of names to values',
  })
  .describe('values of a setting or factor, as for `grid`; a numeric setting may be given as a range');

export const SaturationSchema = z
  .strictObject({
    rates: z.int().min(1).max(100).default(5).describe('constant-rate points between the two probes'),
    concurrency: z
      .int()
      .min(2)
      .max(100_000)
      .default(64)
      .describe('throughput probe: closed-loop users, enough to saturate the server'),
    pattern: z.enum(['constant', 'poisson']).default('constant').describe('arrivals of the rate points'),
  })
  .describe(
    "guidellm's sweep: a synchronous probe (closed loop, concurrency 1), a throughput probe (closed loop at " +
      '`concurrency`), then `rates` request rates evenly between their measured request rates',
  );

export const SearchSchema = z
  .strictObject({
    objective: columnSchema().describe(
      'the results column to minimise (mean over cycles), e.g. serving_energy_per_good_request_j or energy_per_token_j',
    ),
    constraints: z.array(ConstraintSchema).default([]).describe('SLOs every chosen point must meet'),
    axes: z
      .record(z.string(), SearchAxisSchema)
      .default({})
      .describe(
        'the search space: a setting path or factor name → its values (as `grid`); every combination is a point',
      ),
    bisect: z
      .string()
      .nullable()
      .default(null)
      .describe(
        'strategy bisect: the numeric axis whose growth only makes the constraint columns worse (load: rate, ' +
          'concurrency, batch size); searched by bisection for its highest value that meets the SLO, at each ' +
          'setting of the other axes (enumerated)',
      ),
    strategy: z
      .enum(['bisect', 'grid', 'saturation'])
      .default('bisect')
      .describe('bisect: bisection on `bisect`; grid: every point; saturation: the sweep of `saturation`'),
    seed: z.int().nonnegative().default(0).describe('order in which the settings of the other axes are explored'),
    saturation: SaturationSchema.prefault({}),
  })
  .describe('an adaptive suite: the point of `axes` with the least `objective` that meets every constraint');

export type SearchInput = z.input<typeof SearchSchema>;
export type SearchParsed = z.output<typeof SearchSchema>;

/** One SLO: `column op value`. */
export interface SearchConstraint {
  column: string;
  op: '<=' | '>=';
  value: number;
}

/** A validated search: constraints as objects, ranges as lists of values. */
export interface SearchSpec {
  objective: string;
  constraints: SearchConstraint[];
  /** Axis key → its values (a list) or named values (a mapping), as `grid` takes them. */
  axes: Record<string, unknown[] | Record<string, unknown>>;
  bisect: string | null;
  strategy: 'bisect' | 'grid' | 'saturation';
  seed: number;
  saturation: { rates: number; concurrency: number; pattern: 'constant' | 'poisson' };
}
