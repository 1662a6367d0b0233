import { configHash } from './config-hash.js';
import type { SuiteExperiment } from './expand.js';
import { clonePlain, deepMerge } from './merge.js';
import { checkExperiment } from './parse.js';
import { problemText } from './problems.js';

/**
 * A point a search makes up at run time (a saturation sweep's rates): experiment `e` (a probe of the
 * same model, context and cycle) with `overrides` merged in, named `name`. Validated like any
 * experiment: `errors` (path: message) instead of the experiment when the overrides make it invalid.
 */
export function derivePoint(
  e: SuiteExperiment,
  name: string,
  overrides: Record<string, unknown>,
  factors: Record<string, unknown>,
): { point?: SuiteExperiment; errors: string[] } {
  const input = clonePlain(e.experiment) as unknown as Record<string, unknown>;
  deepMerge(input, clonePlain(overrides));
  Object.assign(input, { config_name: name, cycle_id: null });
  const checked = checkExperiment(input);
  if (!checked.config) return { errors: checked.errors.map(problemText) };
  const experiment = { ...checked.config, cycle_id: e.cycle };
  const { model_name, suite } = experiment;
  return {
    point: {
      key: `${model_name}::${suite}::${name}::${e.cycle}`,
      hash: configHash(checked.config),
      model: e.model,
      config_name: name,
      cycle: e.cycle,
      variation: { kind: 'grid', name, factors: { ...e.variation.factors, ...factors } },
      experiment,
    },
    errors: [],
  };
}
