import { seededShuffle } from '@joules/config';
import { byContext, type PrunedPoint, type SearchPoint, type SearchStep, type Verdicts } from './search-space.js';

/**
 * Bisection on the load axis, one context (setting of the other axes) at a time, all contexts
 * side by side. It assumes what load does to a server: the constraint columns (latency) only get
 * worse as load grows, so the points that meet the SLO are a prefix [0, b] of the load axis; and
 * the objective (energy per request or token) only gets better with load inside it (static power
 * shared by more work), so the best point of a context is its highest load that meets the SLO.
 * Bisection finds b in ⌈log2(k + 1)⌉ runs for k loads, where the grid runs k.
 *
 * From the verdicts it derives, per context, lo (the highest load measured to meet the SLO) and hi
 * (the lowest load measured to fail it; points above lo that met are kept in lo, so noise that
 * breaks monotonicity is resolved towards the measured failure). It proposes the middle of (lo, hi)
 * until they are adjacent. Loads ≥ hi are pruned by hi (a failing point prunes the higher loads it
 * dominates); loads < lo by lo (a higher load met the SLO with no worse objective).
 *
 * Pure: the same points, seed and verdicts give the same step. Contexts are visited in a seeded order.
 */
export function bisectStep(points: readonly SearchPoint[], verdicts: Verdicts, seed: number): SearchStep {
  const step: SearchStep = { propose: [], derived: [], pruned: [], done: false };
  for (const group of seededShuffle(byContext(points), seed, 1)) {
    const loads = [...group].sort((a, b) => (a.load ?? 0) - (b.load ?? 0) || a.id.localeCompare(b.id));
    let hi = loads.length;
    loads.forEach((p, i) => {
      if (i < hi && verdicts.get(p.id)?.met === false) hi = i;
    });
    let lo = -1;
    for (let i = 0; i < hi; i++) if (verdicts.get(loads[i]!.id)?.met === true) lo = i;
    pruneOutside(loads, lo, hi, verdicts, step.pruned);
    if (hi - lo > 1) step.propose.push(loads[(lo + hi) >> 1]!.id);
  }
  step.done = step.propose.length === 0;
  return step;
}

function pruneOutside(
  loads: readonly SearchPoint[],
  lo: number,
  hi: number,
  verdicts: Verdicts,
  out: PrunedPoint[],
): void {
  loads.forEach((p, i) => {
    if (verdicts.has(p.id)) return;
    if (i > hi && hi < loads.length) out.push({ id: p.id, reason: 'slo', by: loads[hi]!.id });
    else if (i < lo) out.push({ id: p.id, reason: 'dominated', by: loads[lo]!.id });
  });
}

/** Every point, once: what the grid strategy runs (in a seeded order of contexts, loads ascending). */
export function gridStep(points: readonly SearchPoint[], verdicts: Verdicts, seed: number): SearchStep {
  const propose = seededShuffle(byContext(points), seed, 1)
    .flat()
    .filter((p) => !verdicts.has(p.id))
    .map((p) => p.id);
  return { propose, derived: [], pruned: [], done: propose.length === 0 };
}
