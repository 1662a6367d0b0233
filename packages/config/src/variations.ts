import { isPlainObject } from './merge.js';
import { type DocPath, formatPath, type Problem } from './problems.js';
import type { SearchSpec } from './search-schema.js';
import { isSettingPath, type Suite } from './suite-schema.js';

/** At most this many configurations per suite (before models × cycles). */
export const MAX_VARIATIONS = 100_000;

/** One override of a variation: `value` at experiment path `path`, written at `doc` in the suite. */
export interface Piece {
  path: string[];
  value: unknown;
  doc: DocPath;
}

/** One configuration of a suite, before it is combined with a model. */
export interface Variation {
  name: string;
  kind: 'base' | 'controlled' | 'grid' | 'scenario';
  /** Where the configuration is defined in the suite. */
  doc: DocPath;
  pieces: Piece[];
  /** What this configuration changes: setting path → value (or the value's name), factor → level name. */
  factors: Record<string, unknown>;
}

/** A value as a config-name fragment: letters, digits, ".", "_" and "-" only. */
export function slug(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return value.length ? value.map(slug).join('_') : 'none';
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    return entries.length ? entries.map(([k, v]) => `${k}-${slug(v)}`).join('_') : 'default';
  }
  return String(value).replace(/[^\w.-]+/g, '_') || 'empty';
}

/** Leaf settings of an override object, by dotted path. */
function flatten(value: unknown, prefix: string, out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

/** A setting with its values, or a factor (not a setting) with named mappings of settings. */
type Axis = {
  key: string;
  setting: boolean;
  values: { label: string; value: unknown; doc: DocPath; named: boolean }[];
};

function axesOf(section: DocPath, axes: Record<string, unknown>): Axis[] {
  return Object.entries(axes).map(([key, values]) => {
    const entries = Array.isArray(values)
      ? values.map((value, i) => ({ label: slug(value), value, doc: [...section, key, i], named: false }))
      : Object.entries(values as Record<string, unknown>).map(([name, value]) => ({
          label: name,
          value,
          doc: [...section, key, name],
          named: true,
        }));
    return { key, setting: isSettingPath(key), values: entries };
  });
}

/** The override of one axis value, and what it records as the factor's level. */
const pieceOf = (axis: Axis, v: Axis['values'][number]): Piece => ({
  path: axis.setting ? axis.key.split('.') : [],
  value: v.value,
  doc: v.doc,
});
const levelOf = (_axis: Axis, v: Axis['values'][number]) => (v.named ? v.label : v.value);

function* gridVariations(axes: Axis[], docDepth = 2): Generator<Variation> {
  if (!axes.length) return;
  const index = axes.map(() => 0);
  for (;;) {
    const picked = axes.map((axis, i) => ({ axis, v: axis.values[index[i]!]! }));
    yield {
      name: picked.map(({ axis, v }) => `${axis.key}-${v.label}`).join('__'),
      kind: 'grid',
      doc: picked[0]!.v.doc.slice(0, docDepth),
      pieces: picked.map(({ axis, v }) => pieceOf(axis, v)),
      factors: Object.fromEntries(picked.map(({ axis, v }) => [axis.key, levelOf(axis, v)])),
    };
    let i = axes.length - 1; // odometer: the last axis varies fastest
    while (i >= 0 && ++index[i]! === axes[i]!.values.length) index[i--] = 0;
    if (i < 0) return;
  }
}

/**
 * The configurations of a suite, in order: base (when included, or when there is nothing else),
 * controlled values, scenarios, then grid combinations. Names must be unique.
 */
export function listVariations(suite: Suite): { variations: Variation[]; count: number; duplicates: Problem[] } {
  if (suite.search) return searchVariations(suite.search);
  const controlled = axesOf(['controlled'], suite.controlled);
  const grid = axesOf(['grid'], suite.grid);
  const scenarios = Object.entries(suite.scenarios);
  const gridCount = grid.length ? grid.reduce((n, a) => n * a.values.length, 1) : 0;
  const others = controlled.reduce((n, a) => n + a.values.length, 0) + scenarios.length + gridCount;
  const withBase = suite.include_base || others === 0;
  const count = others + (withBase ? 1 : 0);

  const variations: Variation[] = [];
  if (withBase)
    variations.push({ name: suite.base.config_name ?? 'base', kind: 'base', doc: ['base'], pieces: [], factors: {} });
  for (const axis of controlled) {
    for (const v of axis.values) {
      variations.push({
        name: `${axis.key}-${v.label}`,
        kind: 'controlled',
        doc: v.doc,
        pieces: [pieceOf(axis, v)],
        factors: { [axis.key]: levelOf(axis, v) },
      });
    }
  }
  for (const [name, overrides] of scenarios) {
    const doc = ['scenarios', name];
    variations.push({
      name,
      kind: 'scenario',
      doc,
      pieces: [{ path: [], value: overrides, doc }],
      factors: flatten(overrides, ''),
    });
  }
  if (count <= MAX_VARIATIONS) variations.push(...gridVariations(grid)); // else checkSuite reports the count
  return { variations, count, duplicates: duplicatesOf(variations) };
}

/** The variations of a search: every point of its axes; for a saturation sweep, the two probes at each. */
function searchVariations(search: SearchSpec): { variations: Variation[]; count: number; duplicates: Problem[] } {
  const axes = axesOf(['search', 'axes'], search.axes);
  const points = axes.length ? axes.reduce((n, a) => n * a.values.length, 1) : 1;
  const probes = search.strategy === 'saturation' ? saturationProbes(search) : [];
  const count = points * Math.max(probes.length, 1);
  if (count > MAX_VARIATIONS || count === 0) return { variations: [], count, duplicates: [] }; // checkSuite says why
  const grid: Variation[] = axes.length
    ? [...gridVariations(axes, 3)]
    : [{ name: 'base', kind: 'base', doc: ['search'], pieces: [], factors: {} }];
  const variations = probes.length
    ? grid.flatMap((g) =>
        probes.map((p) => ({
          ...p,
          name: g.kind === 'base' ? p.name : `${g.name}__${p.name}`,
          pieces: [...g.pieces, ...p.pieces],
          factors: { ...g.factors, ...p.factors },
        })),
      )
    : grid;
  return { variations, count, duplicates: duplicatesOf(variations) };
}

/** Saturation: the synchronous probe (one closed-loop user) and the throughput probe (`concurrency` users). */
export function saturationProbes(search: SearchSpec): Variation[] {
  const probe = (name: string, concurrency: number): Variation => {
    const load = { pattern: 'closed_loop', concurrency, rate: null };
    return {
      name,
      kind: 'grid',
      doc: ['search', 'saturation'],
      pieces: [{ path: ['load'], value: load, doc: ['search', 'saturation'] }],
      factors: { 'load.pattern': 'closed_loop', 'load.concurrency': concurrency },
    };
  };
  return [probe('sync', 1), probe('throughput', search.saturation.concurrency)];
}

function duplicatesOf(variations: readonly Variation[]): Problem[] {
  const seen = new Map<string, DocPath>();
  const duplicates: Problem[] = [];
  for (const v of variations) {
    const first = seen.get(v.name);
    if (first)
      duplicates.push({ path: v.doc, message: `config name "${v.name}" is already used by ${formatPath(first)}` });
    else seen.set(v.name, v.doc);
  }
  return duplicates;
}
