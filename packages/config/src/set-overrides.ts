import { parse as parseYaml } from 'yaml';
import { ExperimentSchema } from './experiment-schema.js';
import { closestPath, schemaAt, schemaPaths } from './schema-paths.js';
import { SearchSchema } from './search-schema.js';
import { ExperimentOverridesSchema, SUITE_KEYS, SUITE_SET_KEYS } from './suite-schema.js';

/**
 * One `--set path=value` override. `target` says what `path` is relative to: the experiment (of an
 * experiment file, or every experiment a suite expands to) or the suite document (`cycles`, `base.x`).
 */
export interface SetOverride {
  path: string[];
  value: unknown;
  target: 'experiment' | 'suite';
  /** The override as written, e.g. `batch_size=4`. */
  text: string;
}

const experimentPaths = schemaPaths(ExperimentSchema);
const overridePaths = schemaPaths(ExperimentOverridesSchema);
const SEGMENT = /^[A-Za-z_]\w*$/;

function unknownSetting(dotted: string, known: readonly string[]): string {
  const hint = closestPath(dotted, known);
  return `unknown setting "${dotted}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
}

/** Where `path` points in a file of `kind`, or why it points nowhere. */
function targetOf(path: string[], kind: 'experiment' | 'suite'): { target: SetOverride['target'] } | { error: string } {
  const dotted = path.join('.');
  if (kind === 'experiment') {
    return schemaAt(ExperimentSchema, path)
      ? { target: 'experiment' }
      : { error: unknownSetting(dotted, experimentPaths) };
  }
  const [first, ...rest] = path as [string, ...string[]];
  if (first === 'base') {
    const ok = rest.length === 0 || rest.join('.') === 'config_name' || schemaAt(ExperimentOverridesSchema, rest);
    return ok
      ? { target: 'suite' }
      : {
          error: unknownSetting(
            dotted,
            overridePaths.map((p) => `base.${p}`),
          ),
        };
  }
  if (first === 'search' && rest.length && schemaAt(SearchSchema, rest)) return { target: 'suite' }; // search.strategy=grid
  if (SUITE_KEYS.includes(first)) {
    return rest.length
      ? { error: `"${first}" can only be replaced as a whole (--set ${first}=<YAML value>)` }
      : { target: 'suite' };
  }
  if ((SUITE_SET_KEYS as readonly string[]).includes(first)) {
    return {
      error: `"${first}" is set by the suite for every experiment${first === 'model_name' ? ' (use --set models=[...])' : ''}`,
    };
  }
  return schemaAt(ExperimentOverridesSchema, path)
    ? { target: 'experiment' }
    : { error: unknownSetting(dotted, [...SUITE_KEYS, ...overridePaths]) };
}

/**
 * Parse `path=value` strings (the CLI's `--set`). Values are YAML (`4`, `fp16`, `true`, `null`,
 * `[0, 1]`, `{mode: sampling}`); paths are dotted keys checked against the kind of file they apply to.
 * In a suite, suite keys (`cycles`, `base.batch_size`, …) change the suite; any other path is an
 * experiment setting applied to every experiment after the suite's own layers.
 */
export function parseSetOverrides(
  items: readonly string[],
  kind: 'experiment' | 'suite' = 'experiment',
): { overrides: SetOverride[]; errors: string[] } {
  const overrides: SetOverride[] = [];
  const errors: string[] = [];
  for (const text of items) {
    const eq = text.indexOf('=');
    const where = `--set ${text}:`;
    if (eq <= 0) {
      errors.push(`${where} expected path=value, e.g. batch_size=4`);
      continue;
    }
    const path = text.slice(0, eq).trim().split('.');
    if (!path.every((s) => SEGMENT.test(s))) {
      errors.push(`${where} "${text.slice(0, eq)}" is not a setting path (keys joined by ".")`);
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(text.slice(eq + 1));
    } catch (cause) {
      errors.push(`${where} the value is not valid YAML (${(cause as Error).message.split('\n')[0]})`);
      continue;
    }
    const target = targetOf(path, kind);
    if ('error' in target) errors.push(`${where} ${target.error}`);
    else overrides.push({ path, value: value ?? null, target: target.target, text });
  }
  return { overrides, errors };
}
