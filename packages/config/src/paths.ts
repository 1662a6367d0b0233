import path from 'node:path';
import type { Experiment } from './experiment-schema.js';
import { getIn, isPlainObject, nest } from './merge.js';
import { isSettingPath } from './suite-schema.js';

/** A model name that is a local path rather than a hub id. */
export const isLocalPath = (p: string) => p.startsWith('./') || p.startsWith('../') || p === '.' || path.isAbsolute(p);
const isModulePath = (p: string) => p.startsWith('./') || p.startsWith('../') || path.isAbsolute(p);

/** Resolve relative local paths (model, dataset file, custom launcher module) against `baseDir`. */
export function resolveExperimentPaths(config: Experiment, baseDir: string): Experiment {
  const model_name = isLocalPath(config.model_name) ? path.resolve(baseDir, config.model_name) : config.model_name;
  const dataPath = config.dataset.path;
  const dataset = dataPath === null ? config.dataset : { ...config.dataset, path: path.resolve(baseDir, dataPath) };
  const launcher = config.launch.launcher;
  const launch = isModulePath(launcher)
    ? { ...config.launch, launcher: path.resolve(baseDir, launcher) }
    : config.launch;
  const trace = config.load.trace_file;
  const traced = trace === null ? config.load : { ...config.load, trace_file: path.resolve(baseDir, trace) };
  const load = mapThinkTimeFile(traced, (f) => path.resolve(baseDir, f)) as Experiment['load'];
  const lengths = mapHistogramFiles(config.lengths, (f) => path.resolve(baseDir, f)) as Experiment['lengths'];
  return { ...config, model_name, dataset, launch, load, lengths };
}

/** `lengths` with each histogram's `file` mapped (raw data too: anything not of that shape stays). */
function mapHistogramFiles(lengths: unknown, f: (file: string) => string): unknown {
  if (!isPlainObject(lengths)) return lengths;
  const out: Record<string, unknown> = { ...lengths };
  for (const key of ['input', 'output']) {
    const d = out[key];
    if (isPlainObject(d) && typeof d.file === 'string') out[key] = { ...d, file: f(d.file) };
  }
  return out;
}

/** `load` with `sessions.think_time_s.file` (a histogram of think times) mapped; anything else stays. */
function mapThinkTimeFile(load: unknown, f: (file: string) => string): unknown {
  if (!isPlainObject(load) || !isPlainObject(load.sessions)) return load;
  const think = load.sessions.think_time_s;
  if (!isPlainObject(think) || typeof think.file !== 'string') return load;
  return { ...load, sessions: { ...load.sessions, think_time_s: { ...think, file: f(think.file) } } };
}

/** `p` (relative to `from`) made relative to `to`, keeping a leading `./` so it still reads as a path. */
function rebase(p: string, from: string, to: string): string {
  if (path.isAbsolute(p)) return p;
  const rel = path.relative(to, path.resolve(from, p)).split(path.sep).join('/');
  if (rel === '') return '.';
  return rel.startsWith('../') || rel === '..' ? rel : `./${rel}`;
}

/**
 * Make the relative paths of experiment-shaped data (`model_name`, `dataset.path`, `launch.launcher`),
 * written relative to `from`, relative to `to` instead. Works on raw, unvalidated data; returns a copy.
 */
export function rebaseExperimentData(data: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  if (path.resolve(from) === path.resolve(to)) return data;
  const out = { ...data };
  if (typeof out.model_name === 'string' && isLocalPath(out.model_name))
    out.model_name = rebase(out.model_name, from, to);
  if (isPlainObject(out.dataset) && typeof out.dataset.path === 'string') {
    out.dataset = { ...out.dataset, path: rebase(out.dataset.path, from, to) };
  }
  if (isPlainObject(out.launch) && typeof out.launch.launcher === 'string' && isModulePath(out.launch.launcher)) {
    out.launch = { ...out.launch, launcher: rebase(out.launch.launcher, from, to) };
  }
  if (isPlainObject(out.load) && typeof out.load.trace_file === 'string') {
    out.load = { ...out.load, trace_file: rebase(out.load.trace_file, from, to) };
  }
  if (isPlainObject(out.load)) out.load = mapThinkTimeFile(out.load, (f) => rebase(f, from, to));
  if (isPlainObject(out.lengths)) out.lengths = mapHistogramFiles(out.lengths, (f) => rebase(f, from, to));
  return out;
}

/** The value at dotted `key` rebased as `rebaseExperimentData` would. */
export function rebaseValueAt(key: readonly string[], value: unknown, from: string, to: string): unknown {
  return getIn(rebaseExperimentData(nest(key, value), from, to), key);
}

const mapValues = (o: unknown, f: (v: unknown, k: string) => unknown) =>
  isPlainObject(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v, k)])) : o;
const asExperiment = (v: unknown, from: string, to: string) =>
  isPlainObject(v) ? rebaseExperimentData(v, from, to) : v;

/** `rebaseExperimentData` for every experiment-shaped part of suite data. */
export function rebaseSuiteData(data: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  if (path.resolve(from) === path.resolve(to)) return data;
  const out = { ...data };
  if ('base' in out) out.base = asExperiment(out.base, from, to);
  if (Array.isArray(out.models)) {
    out.models = out.models.map((m) =>
      typeof m === 'string' ? rebaseValueAt(['model_name'], m, from, to) : asExperiment(m, from, to),
    );
  }
  if ('scenarios' in out) out.scenarios = mapValues(out.scenarios, (v) => asExperiment(v, from, to));
  for (const k of ['controlled', 'grid'] as const) {
    if (!(k in out)) continue;
    out[k] = mapValues(out[k], (values, axis) => {
      const key = axis.split('.');
      const one = (v: unknown) => (isSettingPath(axis) ? rebaseValueAt(key, v, from, to) : asExperiment(v, from, to));
      return Array.isArray(values) ? values.map(one) : mapValues(values, one);
    });
  }
  return out;
}
