import { derivePoint, type SuiteExperiment } from '@joules/config';
import { RunConfigError } from '../errors.js';
import type { DerivedPoint } from './search-space.js';

/** Each point's experiments (one per cycle), by point id `model::config`. */
export function experimentsByPoint(experiments: readonly SuiteExperiment[]): Map<string, SuiteExperiment[]> {
  const out = new Map<string, SuiteExperiment[]>();
  for (const e of experiments) {
    const id = `${e.model}::${e.config_name}`;
    const list = out.get(id);
    if (list) list.push(e);
    else out.set(id, [e]);
  }
  return out;
}

/**
 * The experiments of a derived point: those of the point it is made from, with its overrides, one
 * per cycle. Rejects with a RunConfigError (path: message) when the overrides make them invalid.
 */
export function derivedExperiments(d: DerivedPoint, from: readonly SuiteExperiment[]): SuiteExperiment[] {
  return from.map((e) => {
    const { point, errors } = derivePoint(e, d.point.config, d.overrides, d.point.factors);
    if (!point) throw new RunConfigError(errors.map((m) => `${d.point.id}: ${m}`));
    return point;
  });
}
