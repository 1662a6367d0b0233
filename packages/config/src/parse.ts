import type { z } from 'zod';
import { type Experiment, ExperimentSchema } from './experiment-schema.js';
import { isPlainObject } from './merge.js';
import { issuesToProblems, type Problem, problemText } from './problems.js';
import { checkRules } from './rules.js';

export { formatIssues, formatPath } from './problems.js';

/** A validation outcome: `config` is set exactly when `errors` is empty. */
export type ParseResult<T> =
  | { config: T; errors: []; warnings: string[] }
  | { config: undefined; errors: string[]; warnings: string[] };

/** A validation outcome with problems not yet formatted (paths kept, to be located in a file). */
export interface Checked<T> {
  config: T | undefined;
  errors: Problem[];
  warnings: Problem[];
}

const shape = ExperimentSchema.shape as Record<string, z.ZodType>;

/**
 * Validate one experiment, reporting every problem at once. When the schema rejects some keys, the
 * other keys are parsed one by one and every cross-field rule that reads only valid keys still runs.
 */
export function checkExperiment(input: unknown): Checked<Experiment> {
  const parsed = ExperimentSchema.safeParse(input);
  if (parsed.success) {
    const found = checkRules(parsed.data);
    return { config: found.errors.length ? undefined : parsed.data, ...found };
  }
  const errors = issuesToProblems(parsed.error.issues);
  if (!isPlainObject(input) || errors.some((p) => p.path.length === 0))
    return { config: undefined, errors, warnings: [] };
  const rejected = new Set(errors.map((p) => String(p.path[0])));
  const partial: Record<string, unknown> = {};
  const valid = new Set<string>();
  for (const [key, schema] of Object.entries(shape)) {
    if (rejected.has(key)) continue;
    const r = schema.safeParse(input[key]);
    if (r.success) {
      partial[key] = r.data;
      valid.add(key);
    }
  }
  const found = checkRules(partial as Experiment, valid);
  return { config: undefined, errors: [...errors, ...found.errors], warnings: found.warnings };
}

/** Turn a checked result into `path: message` lines, optionally prefixed by where each problem is. */
export function toParseResult<T>(checked: Checked<T>, where?: (p: Problem) => string | undefined): ParseResult<T> {
  const text = (p: Problem) => {
    const at = where?.(p);
    return at ? `${at} ${problemText(p)}` : problemText(p);
  };
  const warnings = checked.warnings.map(text);
  if (checked.errors.length || checked.config === undefined) {
    return { config: undefined, errors: checked.errors.map(text), warnings };
  }
  return { config: checked.config, errors: [], warnings };
}

/** Validate one experiment from unknown input. Never throws on user input. */
export function parseExperiment(input: unknown): ParseResult<Experiment> {
  return toParseResult(checkExperiment(input));
}
