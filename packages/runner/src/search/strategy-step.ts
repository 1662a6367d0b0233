import type { SearchSpec } from '@joules/config';
import { bisectStep, gridStep } from './bisect-strategy.js';
import { saturationStep } from './saturation-strategy.js';
import type { SearchPoint, SearchStep, Verdicts } from './search-space.js';

/** The next step of a search's strategy. Pure: same points, spec and verdicts → same step. */
export function strategyStep(points: readonly SearchPoint[], verdicts: Verdicts, spec: SearchSpec): SearchStep {
  if (spec.strategy === 'saturation') return saturationStep(points, verdicts, spec);
  if (spec.strategy === 'grid') return gridStep(points, verdicts, spec.seed);
  return bisectStep(points, verdicts, spec.seed);
}
