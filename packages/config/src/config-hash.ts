import { createHash } from 'node:crypto';
import type { Experiment } from './experiment-schema.js';

/** JSON with object keys sorted at every depth: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
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
  return createHash('sha256')
    .update(canonicalJson(withoutUnsetLateSections(rest)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Sections added after results folders existed, left out of the hash while every key is null (their
 * default), so a configuration that does not use them keeps the hash it had (a results folder from
 * before resumes). `gpu` (issue 25).
 */
const LATE_SECTIONS = ['gpu'] as const;

function withoutUnsetLateSections(config: Record<string, unknown>): Record<string, unknown> {
  let out = config;
  for (const key of LATE_SECTIONS) {
    const section = config[key];
    if (section === undefined) continue;
    if (section && typeof section === 'object' && Object.values(section).some((v) => v !== null)) continue;
    if (out === config) out = { ...config };
    delete out[key];
  }
  return out;
}

/**
 * Hash of what really ran: the planned experiment with the settings a retry may change applied
 * (`batch_size`, halved after an out-of-memory failure). Equal to `configHash(planned)` when the
 * run went as planned. Resume keeps using the planned hash; cycle statistics group by this one.
 */
export function effectiveConfigHash(planned: Experiment, ran: Pick<Experiment, 'batch_size'>): string {
  return configHash(ran.batch_size === planned.batch_size ? planned : { ...planned, batch_size: ran.batch_size });
}
