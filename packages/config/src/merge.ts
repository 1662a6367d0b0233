import type { DocPath } from './problems.js';
import type { Origin, OriginMap } from './source.js';

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A deep copy of plain data (YAML/JSON values). */
export function clonePlain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clonePlain) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = clonePlain(value[k]);
    return out as T;
  }
  return value;
}

/**
 * Merge `source` into `target` in place: mappings merge key by key, everything else (arrays included)
 * replaces. Copies what it takes from `source`.
 */
export function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(source)) {
    const s = source[k];
    const t = target[k];
    if (isPlainObject(s) && isPlainObject(t)) deepMerge(t, s);
    else target[k] = clonePlain(s);
  }
  return target;
}

/** `deepMerge` that also records, in `origins`, which layer set each path. */
export function mergeTracked(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  origins: OriginMap,
  at: DocPath,
  origin: (relative: DocPath) => Origin,
  rel: DocPath = [],
): void {
  for (const k of Object.keys(source)) {
    const s = source[k];
    const t = target[k];
    if (isPlainObject(s) && isPlainObject(t)) {
      mergeTracked(t, s, origins, [...at, k], origin, [...rel, k]);
    } else {
      target[k] = clonePlain(s);
      origins.setDeep([...at, k], s, origin([...rel, k]));
    }
  }
}

/** Set `value` at a dotted path, creating mappings on the way (a non-mapping on the way is replaced). */
export function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else node = node[key] = {};
  }
  node[path.at(-1)!] = value;
}

/** The value at a dotted path, or undefined. */
export function getIn(source: unknown, path: readonly (string | number)[]): unknown {
  let node = source;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** `{a: {b: value}}` from `['a', 'b']` and `value`. */
export function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setIn(out, path, value);
  return out;
}
