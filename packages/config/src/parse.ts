import type { z } from 'zod';
import { ExperimentSchema, type Experiment } from './experiment-schema.js';
import { applyRules } from './rules.js';

/** A validation outcome: `config` is set exactly when `errors` is empty. */
export type ParseResult<T> =
  | { config: T; errors: []; warnings: string[] }
  | { config: undefined; errors: string[]; warnings: string[] };

/** `a.b[2].c` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** One `path: message` line per problem; unknown keys get one line each. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): { path: PropertyKey[]; text: string }[] {
  const lines: { path: PropertyKey[]; text: string }[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        lines.push({ path, text: `${formatPath(path)}: unknown key` });
      }
      continue;
    }
    const path = [...issue.path];
    const where = path.length ? formatPath(path) : '(root)';
    lines.push({ path, text: `${where}: ${issue.message}` });
  }
  return lines;
}

/** Validate one experiment from unknown input. Never throws on user input. */
export function parseExperiment(input: unknown): ParseResult<Experiment> {
  const parsed = ExperimentSchema.safeParse(input);
  if (!parsed.success) {
    return { config: undefined, errors: formatIssues(parsed.error.issues).map((l) => l.text), warnings: [] };
  }
  const { errors, warnings } = applyRules(parsed.data);
  if (errors.length) return { config: undefined, errors, warnings };
  return { config: parsed.data, errors: [], warnings };
}
