import { canonicalJson } from './config-hash.js';
import type { Experiment, ExperimentKey } from './experiment-schema.js';
import type { Findings } from './problems.js';

/**
 * A cross-field rule. `uses` names the top-level keys it reads: when the schema rejects one of them,
 * the rule is skipped and the others still run, so one type error does not hide a contradiction.
 */
export interface Rule {
  name: string;
  uses: readonly ExperimentKey[];
  check(c: Experiment, out: Findings): void;
}

export const rule = (name: string, uses: readonly ExperimentKey[], check: Rule['check']): Rule => ({
  name,
  uses,
  check,
});
export const err = (out: Findings, path: string, message: string) =>
  out.errors.push({ path: path.split('.'), message });
export const warn = (out: Findings, path: string, message: string) =>
  out.warnings.push({ path: path.split('.'), message });

/** Keys of `value` that differ from the section's defaults. */
export function setKeys(value: object, defaults: object): string[] {
  const v = value as Record<string, unknown>;
  const d = defaults as Record<string, unknown>;
  return Object.keys(d).filter((k) => canonicalJson(v[k]) !== canonicalJson(d[k]));
}

/** `"a", "b" or "c"`. */
export function quotedList(names: readonly string[]): string {
  const q = names.map((n) => `"${n}"`);
  return q.length > 1 ? `${q.slice(0, -1).join(', ')} or ${q.at(-1)}` : (q[0] ?? '');
}
