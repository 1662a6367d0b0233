import { createHash } from 'node:crypto';
import type { Experiment } from './experiment-schema.js';

/** JSON with object keys sorted at every depth: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * Deterministic hash of the effective experiment, cycle excluded: repeated cycles of the same
 * configuration share it. 16 hex characters of SHA-256.
 */
export function configHash(config: Experiment): string {
  const { cycle_id: _cycle, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}
