import { seededShuffle } from '@joules/config';
import type { SearchPoint, SearchStep, Verdicts } from './search-space.js';

/** A point's server setting: what a new server is needed for ('' when the engine starts none). */
export const serverOf = (p: SearchPoint) => p.server ?? '';

/** Points grouped by server setting, in first-seen order. */
export function byServer(points: readonly SearchPoint[]): SearchPoint[][] {
  const groups = new Map<string, SearchPoint[]>();
  for (const p of points) {
    const group = groups.get(serverOf(p));
    if (group) group.push(p);
    else groups.set(serverOf(p), [p]);
  }
  return [...groups.values()];
}

/**
 * A strategy run one server setting at a time: the settings in a seeded order, and only the first
 * that still has points to run proposes; the next starts once it is done. A server is started once
 * per setting (it is kept for consecutive experiments with the same setting), not at every step as
 * when the settings' points alternate. Pruning and derived points of every setting are passed on
 * (on a rerun the verdicts of later settings may be known already). Pure, like `step`: the same
 * points, verdicts and seed give the same step, so a rerun after kill -9 proposes the same points.
 * With one setting (or an engine that starts no server) it is `step` itself.
 */
export function oneServerAtATime(
  points: readonly SearchPoint[],
  verdicts: Verdicts,
  seed: number,
  step: (points: readonly SearchPoint[], verdicts: Verdicts) => SearchStep,
): SearchStep {
  const groups = byServer(points);
  if (groups.length <= 1) return step(points, verdicts);
  const out: SearchStep = { propose: [], derived: [], pruned: [], done: false };
  for (const group of seededShuffle(groups, seed, 2)) {
    const s = step(group, verdicts);
    out.derived.push(...s.derived);
    out.pruned.push(...s.pruned);
    if (!out.propose.length) out.propose = s.propose;
  }
  out.done = out.propose.length === 0;
  return out;
}
