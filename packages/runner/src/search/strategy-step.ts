import type { SearchSpec } from '@joules/config';
import { bisectStep, gridStep } from './bisect-strategy.js';
import { saturationStep } from './saturation-strategy.js';
import type { SearchPoint, SearchStep, Verdicts } from './search-space.js';
import { oneServerAtATime } from './server-order.js';

/**
 * The next step of a search's strategy, one server setting at a time (see oneServerAtATime).
 * Pure: same points, spec and verdicts → same step.
 */
export function strategyStep(points: readonly SearchPoint[], verdicts: Verdicts, spec: SearchSpec): SearchStep {
  return oneServerAtATime(points, verdicts, spec.seed, (group, v) => {
    if (spec.strategy === 'saturation') return saturationStep(group, v, spec);
    if (spec.strategy === 'grid') return gridStep(group, v, spec.seed);
    return bisectStep(group, v, spec.seed);
  });
}
