import { clonePlain, deepMerge, getIn, isPlainObject, setIn } from './merge.js';
import type { DocPath } from './problems.js';

/**
 * One layer of a suite experiment: `value` set at experiment path `path` (`[]`: a whole override
 * object), written at `doc` in the suite, or given on the command line (`set`).
 */
export interface Layer {
  path: readonly string[];
  value: unknown;
  doc?: DocPath;
  set?: string;
}

/** Apply a layer: mappings merge into what is there, anything else replaces it. */
export function applyLayer(input: Record<string, unknown>, layer: Layer): void {
  if (layer.path.length === 0) {
    if (isPlainObject(layer.value)) deepMerge(input, layer.value);
    return;
  }
  const current = getIn(input, layer.path);
  if (isPlainObject(current) && isPlainObject(layer.value)) deepMerge(current, layer.value);
  else setIn(input, layer.path, clonePlain(layer.value));
}

/**
 * Which layer gave the value at experiment path `path` (the highest one that sets it, a parent of it,
 * or something inside it), and where that is: a suite path, or a `--set` override.
 */
export function layerOf(path: DocPath, layers: readonly Layer[]): { doc: DocPath } | { set: string } | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const n = layer.path.length;
    let common = 0;
    while (common < n && common < path.length && layer.path[common] === path[common]) common++;
    if (common < n && common < path.length) continue; // different branches
    let walked = 0;
    if (common === n) {
      // The layer sets a parent of `path` (or the path itself): how deep does its value go?
      let node = layer.value;
      for (const key of path.slice(n)) {
        if (!isPlainObject(node) || !(String(key) in node)) break;
        node = node[String(key)];
        walked++;
      }
      if (n === 0 && walked === 0) continue; // an override object that does not touch `path`
    }
    if (layer.set !== undefined) return { set: layer.set };
    return { doc: [...(layer.doc ?? []), ...path.slice(n, n + walked)] };
  }
  return undefined;
}
