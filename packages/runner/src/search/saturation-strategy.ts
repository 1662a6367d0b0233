import type { SearchSpec } from '@joules/config';
import { byContext, type DerivedPoint, type SearchPoint, type SearchStep, type Verdicts } from './search-space.js';

/** The measured request rate of a point (what a saturation sweep spaces its rates by). */
export const RATE_COLUMN = 'serving_requests_per_s';

/** A rate as config names and keys carry it: 4 significant digits. */
const tidyRate = (r: number) => Number(r.toPrecision(4));

/**
 * guidellm's sweep, per context: first the synchronous probe (one closed-loop user: the request
 * rate of an idle server) and the throughput probe (closed loop at `saturation.concurrency`: the
 * most the server does); then `saturation.rates` constant (or Poisson) request rates evenly spaced
 * strictly between the two probes' measured request rates. No rate points when a probe has no
 * measured rate, or when the throughput probe is not faster. Pure: the rates follow from the
 * verdicts alone, so a rerun derives the same points (and keys).
 */
export function saturationStep(points: readonly SearchPoint[], verdicts: Verdicts, spec: SearchSpec): SearchStep {
  const step: SearchStep = { propose: [], derived: [], pruned: [], done: false };
  for (const group of byContext(points.filter((p) => p.role !== 'rate'))) {
    const sync = group.find((p) => p.role === 'sync');
    const top = group.find((p) => p.role === 'throughput');
    if (!sync || !top) continue;
    const probes = [sync, top].filter((p) => !verdicts.has(p.id));
    if (probes.length) {
      step.propose.push(...probes.map((p) => p.id));
      continue;
    }
    for (const d of ratePoints(sync, top, verdicts, spec)) {
      step.derived.push(d);
      if (!verdicts.has(d.point.id)) step.propose.push(d.point.id);
    }
  }
  step.done = step.propose.length === 0;
  return step;
}

/** The rate points between two measured probes of one context. */
export function ratePoints(sync: SearchPoint, top: SearchPoint, verdicts: Verdicts, spec: SearchSpec): DerivedPoint[] {
  const low = verdicts.get(sync.id)?.means[RATE_COLUMN] ?? null;
  const high = verdicts.get(top.id)?.means[RATE_COLUMN] ?? null;
  if (low === null || high === null || !(high > low)) return [];
  const { rates, pattern } = spec.saturation;
  const prefix = sync.config.slice(0, -'sync'.length); // '' or '<context>__'
  const out: DerivedPoint[] = [];
  const seen = new Set<number>();
  for (let i = 1; i <= rates; i++) {
    const rate = tidyRate(low + ((high - low) * i) / (rates + 1));
    if (seen.has(rate)) continue;
    seen.add(rate);
    const config = `${prefix}rate-${rate}`;
    const factors = { 'load.pattern': pattern, 'load.rate': rate };
    out.push({
      point: {
        id: `${sync.model}::${config}`,
        model: sync.model,
        config,
        context: sync.context,
        ...(sync.server !== undefined && { server: sync.server }),
        load: rate,
        role: 'rate',
        factors: { ...sync.factors, ...factors, 'load.concurrency': null },
      },
      from: sync.id,
      overrides: { load: { pattern, rate, concurrency: null } },
    });
  }
  return out;
}
