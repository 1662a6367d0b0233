import { z } from 'zod';
import { EnergySchema } from './energy-section.js';
import { ENGINE_NAMES, ENGINES, type EngineName } from './engines/engine-table.js';
import {
  BatchingSchema,
  DatasetSchema,
  DecodingSchema,
  LaunchSchema,
  ModelSchema,
  RetrySchema,
  ShardingSchema,
  TrafficSchema,
} from './experiment-sections.js';
import { GpuSchema } from './gpu-section.js';
import { LengthsSchema } from './workload-section.js';

export * from './energy-section.js';
export * from './engines/server-sections.js';
export * from './experiment-sections.js';
export { GpuSchema, type GpuSettings } from './gpu-section.js';
export * from './workload-section.js';

/** `engine`: a name of the engine table (the first is the default), described by the table's summaries. */
export const EngineSchema = z
  .enum(ENGINE_NAMES)
  .default(ENGINE_NAMES[0])
  .describe(ENGINE_NAMES.map((n) => `${n}: ${ENGINES[n].summary}`).join('; '));

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** Every engine's own sections (`server`, `load`, `slo`, ...), in the table's order. */
type EngineSections = UnionToIntersection<(typeof ENGINES)[EngineName]['sections']>;
const engineSections = Object.assign({}, ...ENGINE_NAMES.map((n) => ENGINES[n].sections)) as EngineSections;

const positiveInt = () => z.int().positive();

/** A config or suite name: it appears in keys, file names and CSV rows. */
export const NAME_PATTERN = /^[\w.-]+$/;
export const nameSchema = () => z.string().min(1).regex(NAME_PATTERN, 'use letters, digits, ".", "_" or "-"');

/** One experiment (contract v2): what the worker receives, every default filled in. */
export const ExperimentSchema = z
  .strictObject({
    config_name: nameSchema(),
    model_name: z.string().min(1).describe('hub id (org/name) or local path (relative to the config file)'),
    task_type: z.literal('text_generation').default('text_generation'),
    suite: z.string().min(1).nullable().default(null).describe('set by suite expansion'),
    cycle_id: z.int().nonnegative().nullable().default(null).describe('set by suite expansion'),
    model: ModelSchema.prefault({}),
    dataset: DatasetSchema.prefault({}),
    prompt_ordering: z
      .enum(['as_given', 'sorted_by_length', 'shuffle'])
      .default('as_given')
      .describe('prompt order; shuffle is seeded by `seed`'),
    num_input_prompts: positiveInt().default(64),
    max_input_tokens: positiveInt().default(128),
    max_output_tokens: positiveInt().default(32),
    min_output_tokens: z.int().nonnegative().default(0),
    lengths: LengthsSchema.prefault({}),
    batch_size: positiveInt()
      .default(8)
      .describe('prompts per batch; with adaptive batching: the most prompts per batch'),
    batching: BatchingSchema.prefault({}),
    precision: z.enum(['fp32', 'fp16', 'bf16']).default('fp32'),
    decoding: DecodingSchema.prefault({}),
    sharding: ShardingSchema.prefault({}),
    num_processes: positiveInt().max(1024).default(1),
    gpu_ids: z.array(z.int().nonnegative()).default([]).describe('GPUs to use; empty = run on CPU'),
    launch: LaunchSchema.prefault({}),
    traffic: TrafficSchema.prefault({}),
    energy: EnergySchema.prefault({}),
    gpu: GpuSchema.prefault({}),
    warmup_iterations: z
      .union([z.int().nonnegative().max(100), z.literal('auto')], {
        error: 'expected an integer from 0 to 100, or "auto"',
      })
      .default(2)
      .describe('warm-up batches before measuring; "auto": 2 below 1e9 parameters, 3 below 1e10, 5 above'),
    save_outputs: z.boolean().default(false).describe('save generated text'),
    save_token_ids: z.boolean().default(false).describe('save generated token ids'),
    retry: RetrySchema.prefault({}),
    seed: z.int().nonnegative().default(0),
    engine: EngineSchema,
    ...engineSections,
  })
  .describe('A Joules experiment');

/** The effective experiment (defaults filled in). */
export type Experiment = z.output<typeof ExperimentSchema>;
/** What a user may write (defaults optional). */
export type ExperimentInput = z.input<typeof ExperimentSchema>;
/** A top-level key of an experiment. */
export type ExperimentKey = keyof Experiment;
