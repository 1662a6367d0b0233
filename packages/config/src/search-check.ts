import { isPlainObject } from './merge.js';
import type { Problem } from './problems.js';
import { CONSTRAINT_PATTERN, type SearchConstraint, type SearchParsed, type SearchSpec } from './search-schema.js';

/** How a results column is typed (`resultColumnType` of @joules/metrics), to check objective and constraints. */
export type ColumnTypeOf = (column: string) => 'text' | 'boolean' | 'number' | undefined;

/** Keys of `load` the saturation probes and rate points set themselves. */
const SATURATION_KEYS = ['load.pattern', 'load.rate', 'load.concurrency'];

const isRange = (v: unknown): v is { from: number; to: number; steps?: number; step?: number; scale?: string } =>
  isPlainObject(v) && 'from' in v;

/** Round to 6 significant digits (what keys and config names carry), integers to integers. */
const tidy = (v: number, integer: boolean) => (integer ? Math.round(v) : Number(v.toPrecision(6)));

/** The values of a range, or why it has none. */
export function rangeValues(range: {
  from: number;
  to: number;
  steps?: number;
  step?: number;
  scale?: string;
}): number[] | string {
  const { from, to, steps, step } = range;
  const log = range.scale === 'log';
  if ((steps === undefined) === (step === undefined)) return 'give exactly one of steps or step';
  if (log && step !== undefined) return 'a log range takes steps, not step';
  if (log && (from <= 0 || to <= 0)) return 'a log range needs from and to above 0';
  if (to < from) return 'to must not be below from';
  const integer = Number.isInteger(from) && Number.isInteger(to) && (step === undefined || Number.isInteger(step));
  const out: number[] = [];
  if (step !== undefined) {
    const n = Math.floor((to - from) / step + 1e-9);
    if (n > 1000) return `${n + 1} values; at most 1001`;
    for (let i = 0; i <= n; i++) out.push(tidy(from + i * step, integer));
  } else {
    const k = steps! - 1;
    for (let i = 0; i <= k; i++) {
      const v = log ? from * (to / from) ** (i / k) : from + ((to - from) * i) / k;
      out.push(tidy(v, integer));
    }
  }
  return [...new Set(out)];
}

function parseConstraint(c: SearchParsed['constraints'][number]): SearchConstraint {
  if (typeof c !== 'string') return c;
  const [, column, op, value] = CONSTRAINT_PATTERN.exec(c)!;
  return { column: column!, op: op === '<=' || op === '≤' ? '<=' : '>=', value: Number(value) };
}

function checkColumn(column: string, at: (string | number)[], columnType: ColumnTypeOf | undefined, out: Problem[]) {
  const type = columnType?.(column);
  if (columnType && type === undefined) out.push({ path: at, message: `"${column}" is not a results column` });
  else if (type !== undefined && type !== 'number')
    out.push({ path: at, message: `"${column}" is a ${type} column; expected a numeric one` });
}

/**
 * Normalize a parsed `search` block (constraints as objects, ranges as value lists) and check what
 * the schema cannot: ranges, the bisected axis, saturation's own keys, result columns, and that
 * grid, controlled and scenarios are left to `search.axes`.
 */
export function checkSearch(
  search: SearchParsed,
  suite: { grid: object; controlled: object; scenarios: object },
  columnType: ColumnTypeOf | undefined,
  out: Problem[],
): SearchSpec {
  for (const section of ['grid', 'controlled', 'scenarios'] as const) {
    if (Object.keys(suite[section]).length)
      out.push({ path: [section], message: `a search suite takes its points from search.axes; move ${section} there` });
  }
  const axes: SearchSpec['axes'] = {};
  for (const [key, values] of Object.entries(search.axes)) {
    if (!isRange(values)) {
      axes[key] = values as unknown[] | Record<string, unknown>;
      if (Array.isArray(values) && values.length === 0)
        out.push({ path: ['search', 'axes', key], message: 'needs at least one value' });
      continue;
    }
    const list = rangeValues(values);
    if (typeof list === 'string') out.push({ path: ['search', 'axes', key], message: list });
    axes[key] = typeof list === 'string' ? [] : list;
  }
  checkColumn(search.objective, ['search', 'objective'], columnType, out);
  const constraints = search.constraints.map(parseConstraint);
  for (const [i, c] of constraints.entries()) checkColumn(c.column, ['search', 'constraints', i], columnType, out);
  const { strategy, bisect } = search;
  if (strategy === 'bisect' && bisect === null)
    out.push({
      path: ['search', 'bisect'],
      message: 'strategy bisect needs the axis to bisect (e.g. load.rate or batch_size); or use strategy: grid',
    });
  if (strategy !== 'bisect' && bisect !== null)
    out.push({ path: ['search', 'bisect'], message: `only strategy bisect bisects an axis (strategy is ${strategy})` });
  if (strategy === 'bisect' && bisect !== null) {
    const values = axes[bisect];
    if (values === undefined)
      out.push({ path: ['search', 'bisect'], message: `"${bisect}" is not one of search.axes` });
    else if (!Array.isArray(values) || !values.every((v) => typeof v === 'number'))
      out.push({
        path: ['search', 'axes', bisect],
        message: 'the bisected axis needs numeric values (a list or a range)',
      });
  }
  if (strategy === 'saturation') {
    for (const key of Object.keys(axes).filter((k) => SATURATION_KEYS.some((s) => k === s || s.startsWith(`${k}.`))))
      out.push({ path: ['search', 'axes', key], message: 'set by the saturation sweep (its probes and rates)' });
  }
  return { ...search, constraints, axes };
}
