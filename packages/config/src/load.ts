import path from 'node:path';
import { expandSuite, type InvalidCombination, type SuiteExperiment } from './expand.js';
import type { Experiment } from './experiment-schema.js';
import { type ConfigKind, type LayeredConfig, loadLayered } from './extends.js';
import { clonePlain, getIn, isPlainObject, mergeTracked, setIn } from './merge.js';
import { checkExperiment, type ParseResult } from './parse.js';
import { rebaseSuiteData, rebaseValueAt, resolveExperimentPaths } from './paths.js';
import { type Problem, problemText } from './problems.js';
import type { ColumnTypeOf } from './search-check.js';
import { parseSetOverrides, type SetOverride } from './set-overrides.js';
import { checkSuite } from './suite-check.js';
import { SUITE_ONLY_KEYS, type Suite } from './suite-schema.js';

export interface LoadOptions {
  /** `path=value` overrides (the CLI's `--set`), applied over the file and what it extends. */
  set?: readonly string[];
  /** Folder that relative paths given in `set` are relative to (the CLI's cwd); default: the file's folder. */
  cwd?: string;
  /** Suites: drop invalid model × configuration combinations (listed in `invalid`) instead of failing. */
  skipInvalid?: boolean;
  /** Resolve relative paths (model, dataset file, launcher module) against the file's folder. Default false. */
  resolvePaths?: boolean;
  /** How a results column is typed (`resultColumnType` of @joules/metrics): a search's objective and constraints are checked with it. */
  columnType?: ColumnTypeOf;
}

export interface LoadedExperiment {
  kind: 'experiment';
  file: string;
  result: ParseResult<Experiment>;
}

export interface LoadedSuite {
  kind: 'suite';
  file: string;
  /** The validated suite; `errors` also holds invalid combinations unless `skipInvalid`. */
  result: ParseResult<Suite>;
  /** Every experiment in run order; empty when there are errors. */
  experiments: SuiteExperiment[];
  /** Invalid model × configuration combinations, with their reasons (dropped with `skipInvalid`). */
  invalid: InvalidCombination[];
}

export type LoadedConfig = LoadedExperiment | LoadedSuite;

/** Problems in reading order: by file (first seen first), then line; those without a line first. */
export function sortByPlace(lines: readonly string[], first?: string): string[] {
  const files = new Map<string, number>(first === undefined ? [] : [[first, 0]]);
  const keyed = lines.map((text, i) => {
    const m = /^(.+?):(\d+) /.exec(text);
    if (m && !files.has(m[1]!)) files.set(m[1]!, files.size);
    return { text, i, file: m ? files.get(m[1]!)! : -1, line: m ? Number(m[2]) : 0 };
  });
  keyed.sort((a, b) => a.file - b.file || a.line - b.line || a.i - b.i);
  return keyed.map((k) => k.text);
}

const fail = <T>(file: string, errors: string[], warnings: string[] = []): ParseResult<T> => ({
  config: undefined,
  errors: sortByPlace(errors, file),
  warnings: sortByPlace(warnings, file),
});

/** Apply `--set` overrides aimed at the file's own document, rebasing relative paths given from `cwd`. */
function applySets(layered: LayeredConfig, sets: readonly SetOverride[], cwd: string | undefined): void {
  const rootDir = path.dirname(path.resolve(layered.root.file));
  for (const s of sets) {
    let value = s.value;
    if (cwd && layered.kind === 'experiment') value = rebaseValueAt(s.path, value, cwd, rootDir);
    else if (cwd && s.path[0] === 'base') value = rebaseValueAt(s.path.slice(1), value, cwd, rootDir);
    else if (cwd && s.path[0] === 'models') value = rebaseSuiteData({ models: value }, cwd, rootDir).models;
    const current = getIn(layered.data, s.path);
    if (isPlainObject(current) && isPlainObject(value)) {
      mergeTracked(current, value, layered.origins, s.path, () => ({ set: s.text }));
    } else {
      setIn(layered.data, s.path, clonePlain(value));
      layered.origins.setDeep(s.path, value, { set: s.text });
    }
  }
}

async function load(file: string, options: LoadOptions, want?: ConfigKind): Promise<LoadedConfig> {
  const layered = await loadLayered(file);
  const { kind, origins } = layered;
  if (want && kind !== want) {
    const why =
      kind === 'suite'
        ? `is a suite (it has ${SUITE_ONLY_KEYS.filter((k) => k in layered.data).join(', ')}), not a single experiment`
        : 'is a single experiment, not a suite (a suite has models)';
    const result = fail<never>(file, [`${file}: ${why}`]);
    return kind === 'suite'
      ? { kind: 'experiment', file, result }
      : { kind: 'suite', file, result, experiments: [], invalid: [] };
  }
  const sets = parseSetOverrides(options.set ?? [], kind);
  const experimentSets = sets.overrides.filter((s) => s.target === 'experiment');
  const suiteSets = sets.overrides.filter((s) => s.target === 'suite');
  applySets(layered, kind === 'experiment' ? experimentSets : suiteSets, options.cwd);
  const rootDir = path.dirname(path.resolve(file));
  const where = (p: Problem) => `${origins.locate(p.path) ?? file} ${problemText(p)}`;
  const before = [...layered.errors, ...sets.errors];

  if (kind === 'experiment') {
    const checked = checkExperiment(layered.data);
    const errors = [...before, ...checked.errors.map(where)];
    const warnings = sortByPlace(checked.warnings.map(where), file);
    if (errors.length || !checked.config) return { kind, file, result: fail(file, errors, warnings) };
    const config = options.resolvePaths ? resolveExperimentPaths(checked.config, rootDir) : checked.config;
    return { kind, file, result: { config, errors: [], warnings } };
  }

  const checked = checkSuite(layered.data, options.columnType);
  const errors = [...before, ...checked.errors.map(where)];
  if (errors.length || !checked.config) return { kind, file, result: fail(file, errors), experiments: [], invalid: [] };
  const cwdDir = options.cwd;
  const expansion = expandSuite(checked.config, {
    skipInvalid: options.skipInvalid ?? false,
    set: cwdDir
      ? experimentSets.map((s) => ({ ...s, value: rebaseValueAt(s.path, s.value, cwdDir, rootDir) }))
      : experimentSets,
    locate: (p) => origins.locate(p) ?? file,
    ...(options.resolvePaths && { baseDir: rootDir }),
  });
  const { experiments, invalid } = expansion;
  const warnings = sortByPlace(expansion.warnings, file);
  if (expansion.errors.length)
    return { kind, file, result: fail(file, expansion.errors, warnings), experiments, invalid };
  return { kind, file, result: { config: checked.config, errors: [], warnings }, experiments, invalid };
}

/**
 * Load and validate an experiment or a suite file (YAML or JSON; the kind is detected), with what it
 * `extends` and `--set` overrides. Problems are `file:line path: message`; only an unreadable or
 * unparsable `file` throws (ConfigFileError).
 */
export function loadConfigFile(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  return load(file, options);
}

/** `loadConfigFile` for a file that must be a single experiment (a suite is reported as an error). */
export async function loadExperimentFile(file: string, options: LoadOptions = {}): Promise<LoadedExperiment> {
  return (await load(file, options, 'experiment')) as LoadedExperiment;
}

/** `loadConfigFile` for a file that must be a suite (a single experiment is reported as an error). */
export async function loadSuiteFile(file: string, options: LoadOptions = {}): Promise<LoadedSuite> {
  return (await load(file, options, 'suite')) as LoadedSuite;
}
