import { z } from 'zod';

/** Where prompts come from: the bundled sample, a local JSONL/CSV file, or a hub dataset. */
export const DatasetSchema = z
  .strictObject({
    source: z.enum(['builtin', 'file', 'hub']).default('builtin').describe('builtin sample, local file, or hub dataset'),
    path: z.string().min(1).nullable().default(null).describe('file source: a .jsonl or .csv path (relative to the config file)'),
    name: z.string().min(1).nullable().default(null).describe('hub source: dataset name, e.g. AIEnergyScore/text_generation'),
    split: z.string().min(1).default('train').describe('hub source: dataset split'),
    column: z.string().min(1).nullable().default(null).describe('column holding the prompt; null = "prompt", else "text"'),
  })
  .describe('prompt source');

/** Greedy or sampling decoding. Sampling parameters are only valid with mode "sampling". */
export const DecodingSchema = z.strictObject({
  mode: z.enum(['greedy', 'sampling']).default('greedy'),
  temperature: z.number().positive().nullable().default(null).describe('sampling only; null = 1.0'),
  top_k: z.int().nonnegative().nullable().default(null).describe('sampling only; null or 0 = no top-k filter'),
  top_p: z.number().gt(0).lte(1).nullable().default(null).describe('sampling only; null = 1.0'),
});

export const EnergySchema = z.strictObject({
  backend: z.enum(['codecarbon', 'none']).default('codecarbon').describe('energy measurement backend'),
  country_iso_code: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected a 3-letter ISO 3166 country code, e.g. "USA"')
    .default('USA')
    .describe('grid carbon intensity used by CodeCarbon offline mode'),
  measure_power_secs: z.number().positive().max(3600).default(1).describe('power sampling interval (s)'),
});

const positiveInt = () => z.int().positive();

/** One experiment: what the worker receives, every default filled in. */
export const ExperimentSchema = z
  .strictObject({
    config_name: z.string().min(1).regex(/^[\w.-]+$/, 'use letters, digits, ".", "_" or "-"'),
    model_name: z.string().min(1).describe('hub id (org/name) or local path (relative to the config file)'),
    task_type: z.literal('text_generation').default('text_generation'),
    suite: z.string().min(1).nullable().default(null),
    cycle_id: z.int().nonnegative().nullable().default(null),
    dataset: DatasetSchema.prefault({}),
    num_input_prompts: positiveInt().default(64),
    max_input_tokens: positiveInt().default(128),
    max_output_tokens: positiveInt().default(32),
    min_output_tokens: z.int().nonnegative().default(0),
    batch_size: positiveInt().default(8),
    precision: z.enum(['fp32', 'fp16', 'bf16']).default('fp32'),
    decoding: DecodingSchema.prefault({}),
    num_processes: positiveInt().max(1024).default(1),
    gpu_ids: z.array(z.int().nonnegative()).default([]).describe('GPUs to use; empty = run on CPU'),
    warmup_iterations: z.int().nonnegative().max(100).default(2),
    energy: EnergySchema.prefault({}),
    save_outputs: z.boolean().default(false),
    seed: z.int().nonnegative().default(0),
  })
  .describe('A Joules experiment');

/** The effective experiment (defaults filled in). */
export type Experiment = z.output<typeof ExperimentSchema>;
/** What a user may write (defaults optional). */
export type ExperimentInput = z.input<typeof ExperimentSchema>;
