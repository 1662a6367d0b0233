import { z } from 'zod';
import { ExperimentSchema, nameSchema } from './experiment-schema.js';
import { deepPartial, schemaAt } from './schema-paths.js';
import { SearchSchema, type SearchSpec } from './search-schema.js';

/** Keys an experiment gets from the suite, never from overrides. */
export const SUITE_SET_KEYS = ['config_name', 'model_name', 'suite', 'cycle_id'] as const;

/** Any experiment setting except those the suite sets: every key optional, no defaults. */
export const ExperimentOverridesSchema = deepPartial(
  ExperimentSchema.omit({ config_name: true, model_name: true, suite: true, cycle_id: true }),
).describe('experiment settings to override (any experiment key except config_name, model_name, suite, cycle_id)');

/** A short model name for keys: no spaces, no "::". */
export const LABEL_PATTERN = /^(?:(?!::)\S)+$/;

export const SuiteModelSchema = ExperimentOverridesSchema.extend({
  model_name: z.string().min(1).describe('hub id (org/name) or local path (relative to the suite file)'),
  label: z
    .string()
    .regex(LABEL_PATTERN, 'no spaces and no "::"')
    .optional()
    .describe('short display name of the model; default: the hub id, or the folder name of a local path'),
}).describe('a model and the settings it needs (they apply to every configuration of this model)');

const ModelEntrySchema = z.union([z.string().min(1), SuiteModelSchema], {
  error: 'expected a model name, or a mapping with model_name (and settings for this model)',
});

export const SuiteBaseSchema = ExperimentOverridesSchema.extend({
  config_name: nameSchema()
    .optional()
    .describe('name of the base configuration, used with include_base or when the suite has no variations [base]'),
}).describe('settings shared by every experiment of the suite');

/** Whether a dotted path names an experiment setting a suite may vary (`batch_size`, `decoding.temperature`). */
export const isSettingPath = (key: string): boolean =>
  schemaAt(ExperimentOverridesSchema, key.split('.')) !== undefined;

/** An axis key: a dotted setting path such as `decoding.temperature`, or the name of a factor. */
const axisKey = z
  .string()
  .regex(
    /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$/,
    'expected a setting path such as "decoding.temperature", or a factor name such as "processes"',
  );

const AxisSchema = z
  .union([z.array(z.unknown()), z.record(nameSchema(), z.unknown())], {
    error: 'expected a list of values, or a mapping of names to values',
  })
  .describe(
    'a setting path with a list of values (configs <path>-<value>) or named values (<path>-<name>); ' +
      'or a factor name with named mappings of settings (<factor>-<name>)',
  );

export const SuiteSchema = z
  .strictObject({
    name: nameSchema().describe('suite name: set as `suite` in every experiment and used in keys'),
    description: z.string().nullable().default(null),
    cycles: z.int().positive().max(1000).default(1).describe('how many times the whole suite is run'),
    shuffle: z.boolean().default(false).describe('run each cycle in a different seeded random order'),
    shuffle_seed: z.int().nonnegative().default(0).describe('seed of the per-cycle shuffle'),
    reuse: z
      .enum(['none', 'model'])
      .default('none')
      .describe(
        '"model": consecutive experiments with equal load settings share one worker session (the model loads once per cycle); ' +
          "each cycle still runs every model's configs in their seeded order",
      ),
    models: z.array(ModelEntrySchema).min(1).describe('models to run every configuration on'),
    base: SuiteBaseSchema.default({}),
    include_base: z
      .boolean()
      .default(false)
      .describe('also run the base configuration itself (with variations present)'),
    controlled: z
      .record(axisKey, AxisSchema)
      .default({})
      .describe('one factor at a time: each value (of a setting or a factor) is one configuration, on top of base'),
    grid: z
      .record(axisKey, AxisSchema)
      .default({})
      .describe('full factorial: one configuration per combination of the listed values'),
    scenarios: z
      .record(nameSchema(), ExperimentOverridesSchema)
      .default({})
      .describe('named configurations that change several settings at once'),
    search: SearchSchema.optional().describe(
      'an adaptive suite: run only the points of search.axes a search needs to find the least objective under the constraints',
    ),
  })
  .describe('A Joules suite: models × configurations × cycles');

/** A suite as written (defaults optional). */
export type SuiteInput = z.input<typeof SuiteSchema>;
type SuiteParsed = z.output<typeof SuiteSchema>;

/** One model of a suite, normalized: its key label and its own overrides. */
export interface SuiteModel {
  label: string;
  model_name: string;
  overrides: Record<string, unknown>;
}

/** A validated suite (defaults filled in, models normalized). */
export type Suite = Omit<SuiteParsed, 'models' | 'base' | 'scenarios' | 'search'> & {
  models: SuiteModel[];
  /** The search, normalized (constraints as objects, ranges as lists); null for a plain suite. */
  search: SearchSpec | null;
  base: Record<string, unknown> & { config_name?: string };
  scenarios: Record<string, Record<string, unknown>>;
};

/** Top-level keys that only suites have: a file with any of them is a suite. */
export const SUITE_ONLY_KEYS = ['models', 'base', 'cycles', 'controlled', 'grid', 'scenarios', 'search'] as const;

/** Every top-level key of a suite file. */
export const SUITE_KEYS = Object.keys(SuiteSchema.shape);
