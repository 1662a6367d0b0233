import { readFile } from 'node:fs/promises';
import { type Document, isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigFileError } from './errors.js';
import type { DocPath } from './problems.js';

/** One YAML/JSON file as read: its plain data and what is needed to find a key's line. */
export interface SourceFile {
  file: string;
  data: Record<string, unknown>;
  doc: Document;
  counter: LineCounter;
}

/** Line (1-based) of the deepest node of `keyPath` present in the YAML document. */
export function lineOf(doc: Document, counter: LineCounter, keyPath: readonly PropertyKey[]): number | undefined {
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

/** Parse YAML or JSON text; throws ConfigFileError naming the file (and line) on a syntax error. */
export function parseSource(file: string, text: string): SourceFile {
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
  return { file, data: data as Record<string, unknown>, doc, counter };
}

/** Read and parse a YAML or JSON file; throws ConfigFileError naming the file. */
export async function readSource(file: string): Promise<SourceFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigFileError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`, {
      cause,
    });
  }
  return parseSource(file, text);
}

/** Read a YAML or JSON file into plain data; throws ConfigFileError naming the file. */
export async function readConfigFile(file: string): Promise<{ data: unknown; doc: Document; counter: LineCounter }> {
  const { data, doc, counter } = await readSource(file);
  return { data, doc, counter };
}

/** `file:line` of `path` in a source (the deepest part of it present), else `file`. */
export function placeOf(src: SourceFile, path: readonly (string | number)[]): string {
  const line = lineOf(src.doc, src.counter, path);
  return line ? `${src.file}:${line}` : src.file;
}

/** Where a value came from: a place in a file, or a `--set` override. */
export type Origin = { src: SourceFile; path: DocPath } | { set: string };

const keyOf = (path: readonly (string | number)[]) => path.join('\u001f');

/** For each path of a merged document, the layer that set it last. */
export class OriginMap {
  readonly #map = new Map<string, Origin>();

  set(path: DocPath, origin: Origin): void {
    this.#map.set(keyOf(path), origin);
  }

  /** Record `value` (set whole at `path`) and every path inside it. */
  setDeep(path: DocPath, value: unknown, origin: Origin): void {
    this.set(path, origin);
    if (value === null || typeof value !== 'object') return;
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [k, v] of entries) {
      const inner: Origin = 'set' in origin ? origin : { src: origin.src, path: [...origin.path, k] };
      this.setDeep([...path, k], v, inner);
    }
  }

  /** `file:line` (or `--set path=value`) of the layer that set the deepest known prefix of `path`. */
  locate(path: readonly (string | number)[]): string | undefined {
    for (let n = path.length; n >= 0; n--) {
      const origin = this.#map.get(keyOf(path.slice(0, n)));
      if (!origin) continue;
      if ('set' in origin) return `--set ${origin.set}`;
      return placeOf(origin.src, [...origin.path, ...path.slice(n)]);
    }
    return undefined;
  }
}
