import type { JS } from '@duckdb/node-api';

/** A value as JSON would hold it (plus bytes for BLOBs). */
export type PlainValue = null | boolean | number | string | Uint8Array | PlainValue[] | { [key: string]: PlainValue };

/**
 * DuckDB's JS values made plain: BIGINT/HUGEINT → number when it fits exactly, else a decimal
 * string; timestamps and dates → ISO strings; lists and structs recursively.
 */
export function toPlain(value: JS): PlainValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string')
    return value;
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  const out: Record<string, PlainValue> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
  return out;
}
