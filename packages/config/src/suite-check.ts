import path from 'node:path';
import { isPlainObject } from './merge.js';
import { type Checked, type ParseResult, toParseResult } from './parse.js';
import { isLocalPath } from './paths.js';
import { type DocPath, issuesToProblems, type Problem } from './problems.js';
import { closestPath, schemaAt, schemaPaths } from './schema-paths.js';
import { type ColumnTypeOf, checkSearch } from './search-check.js';
import {
  ExperimentOverridesSchema,
  isSettingPath,
  SUITE_SET_KEYS,
  type Suite,
  type SuiteModel,
  SuiteSchema,
} from './suite-schema.js';
import { listVariations, MAX_VARIATIONS } from './variations.js';

const overridePaths = schemaPaths(ExperimentOverridesSchema);

/** Why an axis key cannot name a setting or a factor, or undefined. */
function axisKeyProblem(key: string, values: unknown): string | undefined {
  const first = key.split('.')[0]!;
  if ((SUITE_SET_KEYS as readonly string[]).includes(first)) {
    return first === 'model_name'
      ? 'set by the suite: list models under `models`'
      : 'set by the suite for every experiment';
  }
  if (isPlainObject(values) && !key.includes('.')) return undefined; // a factor: named mappings of settings
  const hint = closestPath(key, overridePaths);
  const factor = key.includes('.') ? '' : '; a factor (not a setting) needs named mappings of settings';
  return `unknown setting${hint ? ` (did you mean "${hint}"?)` : ''}${factor}`;
}

/**
 * Axis keys must be settings (or factor names), and every value must be valid for its setting (or be
 * valid settings, for a factor). Works on raw data: the schema reports wrong shapes.
 */
function checkAxes(input: Record<string, unknown>, out: Problem[]): void {
  for (const section of ['controlled', 'grid'] as const) {
    const axes = input[section];
    if (isPlainObject(axes)) checkAxisSection([section], axes, out);
  }
  const search = input.search;
  if (isPlainObject(search) && isPlainObject(search.axes)) {
    const listed = Object.entries(search.axes).filter(([, v]) => !isRange(v)); // ranges: checked once expanded
    checkAxisSection(['search', 'axes'], Object.fromEntries(listed), out);
  }
}

const isRange = (v: unknown) => isPlainObject(v) && 'from' in v;

/** The axes of one section (`grid`, `controlled`, `search.axes`), written at `prefix`. */
function checkAxisSection(prefix: DocPath, axes: Record<string, unknown>, out: Problem[]): void {
  for (const [key, values] of Object.entries(axes)) {
    const setting = isSettingPath(key);
    const problem = setting ? undefined : axisKeyProblem(key, values);
    if (problem) {
      out.push({ path: [...prefix, key], message: problem });
      continue;
    }
    const entries = Array.isArray(values)
      ? values.map((v, i) => [i, v] as const)
      : isPlainObject(values)
        ? Object.entries(values)
        : null;
    if (!entries) continue;
    if (entries.length === 0) out.push({ path: [...prefix, key], message: 'needs at least one value' });
    const schema = setting ? schemaAt(ExperimentOverridesSchema, key.split('.'))! : ExperimentOverridesSchema;
    const before = out.length;
    for (const [at, value] of entries) {
      if (!setting && !isPlainObject(value)) {
        out.push({
          path: [...prefix, key, at],
          message: `expected a mapping of settings ("${key}" is a factor, not a setting)`,
        });
        continue;
      }
      const r = schema.safeParse(value);
      if (!r.success) out.push(...issuesToProblems(r.error.issues, [...prefix, key, at]));
    }
    const hint = !setting && out.length > before ? closestPath(key, overridePaths) : undefined;
    if (hint)
      out.push({ path: [...prefix, key], message: `not a setting, so read as a factor (did you mean "${hint}"?)` });
  }
}

/** The display label of a model: the hub id, or the folder name of a local path. */
export function defaultLabel(modelName: string): string {
  const label = isLocalPath(modelName) ? path.basename(path.resolve('/', modelName)) : modelName;
  return label.replace(/\s+/g, '_').replaceAll('::', '_') || 'model';
}

function normalizeModels(models: readonly unknown[], out: Problem[]): SuiteModel[] {
  const labels = new Map<string, number>();
  const names = new Map<string, number>();
  return models.map((entry, i) => {
    const { model_name, label, ...overrides } = (typeof entry === 'string' ? { model_name: entry } : entry) as {
      model_name: string;
      label?: string;
    } & Record<string, unknown>;
    const at = (key: string) => (typeof entry === 'string' ? ['models', i] : ['models', i, key]);
    const sameModel = names.get(model_name);
    if (sameModel !== undefined) {
      out.push({
        path: at('model_name'),
        message: `"${model_name}" is already models[${sameModel}]; vary a model's settings with controlled, grid or scenarios (e.g. model.revision)`,
      });
    } else names.set(model_name, i);
    // Two local models in different folders may share a folder name: their labels fall back to the path.
    let name = label ?? defaultLabel(model_name);
    if (label === undefined && labels.has(name)) name = model_name;
    const sameLabel = labels.get(name);
    if (sameLabel !== undefined && sameModel === undefined) {
      out.push({
        path: at('label'),
        message: `label "${name}" is already used by models[${sameLabel}]; give one of them a distinct \`label\``,
      });
    } else labels.set(name, i);
    return { label: name, model_name, overrides };
  });
}

/**
 * Validate a suite: its structure, every controlled/grid/search value, model labels and config
 * names. `columnType` checks that a search's objective and constraints name numeric result columns.
 */
export function checkSuite(input: unknown, columnType?: ColumnTypeOf): Checked<Suite> {
  const parsed = SuiteSchema.safeParse(input);
  const errors = parsed.success ? [] : issuesToProblems(parsed.error.issues);
  if (isPlainObject(input)) checkAxes(input, errors);
  if (!parsed.success) return { config: undefined, errors, warnings: [] };
  const search = parsed.data.search ? checkSearch(parsed.data.search, parsed.data, columnType, errors) : null;
  if (search) {
    const raw = parsed.data.search!.axes;
    const ranges = Object.entries(search.axes).filter(([k, v]) => isRange(raw[k]) && (v as unknown[]).length > 0);
    checkAxisSection(['search', 'axes'], Object.fromEntries(ranges), errors);
  }
  const suite = { ...parsed.data, search, models: normalizeModels(parsed.data.models, errors) } as Suite;
  const variations = listVariations(suite);
  errors.push(...variations.duplicates);
  if (variations.count > MAX_VARIATIONS) {
    errors.push({ path: ['grid'], message: `${variations.count} configurations; at most ${MAX_VARIATIONS}` });
  }
  return { config: errors.length ? undefined : suite, errors, warnings: [] };
}

/** Validate a suite from unknown input. Never throws on user input. */
export function parseSuite(input: unknown, columnType?: ColumnTypeOf): ParseResult<Suite> {
  return toParseResult(checkSuite(input, columnType));
}
