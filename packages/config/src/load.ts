import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { ExperimentSchema, type Experiment } from './experiment-schema.js';
import { ConfigFileError } from './errors.js';
import { formatIssues, type ParseResult } from './parse.js';
import { applyRules } from './rules.js';

export interface LoadedExperiment {
  file: string;
  result: ParseResult<Experiment>;
}

/** Line (1-based) of the deepest node of `keyPath` present in the YAML document. */
function lineOf(doc: Document, counter: LineCounter, keyPath: readonly PropertyKey[]): number | undefined {
  for (let n = keyPath.length; n >= 0; n--) {
    const prefix = keyPath.slice(0, n) as (string | number)[];
    const parent = n > 0 ? doc.getIn(prefix.slice(0, -1), true) : undefined;
    // Point at the key itself when the parent is a map (e.g. unknown or mistyped keys).
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === prefix[n - 1]);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return counter.linePos(range[0]).line;
    }
    const node = n > 0 ? doc.getIn(prefix, true) : doc.contents;
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

/** Read a YAML or JSON file into plain data; throws ConfigFileError naming the file. */
export async function readConfigFile(file: string): Promise<{ data: unknown; doc: Document; counter: LineCounter }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigFileError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`, { cause });
  }
  const counter = new LineCounter();
  // YAML 1.2 is a superset of JSON: one parser serves both and gives line numbers.
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new ConfigFileError(`${file}${line ? `:${line}` : ''}`, first.message.split('\n')[0] ?? 'parse error', {
      cause: first,
    });
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigFileError(file, 'expected a mapping of keys to values at the top level');
  }
  return { data, doc, counter };
}

const isLocalPath = (p: string) => p.startsWith('./') || p.startsWith('../') || p === '.' || path.isAbsolute(p);

/** Resolve relative local paths (model, dataset file) against the config file's folder. */
export function resolveExperimentPaths(config: Experiment, baseDir: string): Experiment {
  const model_name = isLocalPath(config.model_name) ? path.resolve(baseDir, config.model_name) : config.model_name;
  const dataPath = config.dataset.path;
  const dataset = dataPath === null ? config.dataset : { ...config.dataset, path: path.resolve(baseDir, dataPath) };
  return { ...config, model_name, dataset };
}

/**
 * Load and validate one experiment file (YAML or JSON). Problems are returned as
 * `file:line path: message`; only an unreadable or unparsable file throws.
 */
export async function loadExperimentFile(file: string): Promise<LoadedExperiment> {
  const { data, doc, counter } = await readConfigFile(file);
  const at = (keyPath: readonly PropertyKey[]) => {
    const line = lineOf(doc, counter, keyPath);
    return line ? `${file}:${line}` : file;
  };
  const parsed = ExperimentSchema.safeParse(data);
  if (!parsed.success) {
    const errors = formatIssues(parsed.error.issues).map((l) => `${at(l.path)} ${l.text}`);
    return { file, result: { config: undefined, errors, warnings: [] } };
  }
  const { errors, warnings } = applyRules(parsed.data);
  const located = (lines: string[]) => lines.map((l) => `${at(l.split(':')[0]!.split(/[.[\]]/).filter(Boolean))} ${l}`);
  if (errors.length) return { file, result: { config: undefined, errors: located(errors), warnings: located(warnings) } };
  return { file, result: { config: parsed.data, errors: [], warnings: located(warnings) } };
}
