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
 * Keys added after results folders existed, left out of the hash while they hold their default, so
 * a configuration that does not use them keeps the hash it had (a results folder from before
 * resumes): `gpu` (issue 25); `lengths`, `dataset.format`, `load.trace_format`,
 * `load.shared_prefix_count`, `load.sessions` (issue 23).
 */
const LATE_KEYS: readonly [path: readonly string[], unset: unknown][] = [
  [['gpu'], { power_limit_w: null, sm_clock_mhz: null }],
  [['lengths'], { input: null, output: null, enforce: 'auto', seed: null }],
  [['dataset', 'format'], 'auto'],
  [['load', 'trace_format'], 'auto'],
  [['load', 'shared_prefix_count'], 1],
  [['load', 'sessions'], null],
];

function withoutUnsetLateSections(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const [path, unset] of LATE_KEYS) {
    const parents = path.slice(0, -1);
    let holder: Record<string, unknown> = out;
    let ok = true;
    for (const key of parents) {
      const next = holder[key];
      if (!next || typeof next !== 'object') {
        ok = false;
        break;
      }
      const copy = { ...(next as Record<string, unknown>) };
      holder[key] = copy;
      holder = copy;
    }
    const last = path.at(-1) as string;
    if (ok && last in holder && canonicalJson(holder[last]) === canonicalJson(unset)) delete holder[last];
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
