import { createHash } from 'node:crypto';
import { canonicalJson, type SearchSpec, type SuiteExperiment } from '@joules/config';
import { derivedExperiments, experimentsByPoint } from './point-experiments.js';
import { SearchLog } from './search-log.js';
import { byContext, searchSpace } from './search-space.js';

/** What identifies one search in its log: a changed `search:` block is another search. */
export const searchSignature = (spec: SearchSpec) =>
  createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 12);

/** Where a search suite stands, from its decision log (`joules status`). */
export interface SearchProgress {
  /** Keys of the points the search proposed so far (derived rate points included): what it has run or will run next. */
  proposed: string[];
  /** Keys of the points it pruned: never run. */
  pruned: string[];
  points: {
    /** Points of the full grid (saturation: 2 probes + the rates per context). */
    grid: number;
    proposed: number;
    pruned: number;
    /** Neither yet: the search may still propose or prune them. */
    undecided: number;
  };
  /** From the log's `finished` entry, when the search is done. */
  finished: { chosen: string | null; experiments: number; grid: number } | null;
}

/**
 * A search suite's progress as its decision log records it. The grid's points are not all pending:
 * the search proposes them step by step and prunes the rest, so only proposed points are counted
 * as work (pending until their experiments are done); pruned points are counted apart, and the
 * points not decided yet by number only.
 */
export async function searchProgress(
  resultsDir: string,
  suite: { name: string; experiments: readonly SuiteExperiment[]; search: SearchSpec },
): Promise<SearchProgress> {
  const spec = suite.search;
  const log = await SearchLog.open(resultsDir, suite.name, searchSignature(spec));
  const byPoint = experimentsByPoint(suite.experiments);
  const proposed = new Set<string>();
  const pruned = new Set<string>();
  let finished: SearchProgress['finished'] = null;
  for (const e of log.entries) {
    if (e.type === 'derived' && !byPoint.has(e.point) && byPoint.has(e.from)) {
      const config = e.point.slice(e.point.indexOf('::') + 2);
      const point = { id: e.point, model: '', config, context: '', load: null, factors: {} };
      try {
        byPoint.set(e.point, derivedExperiments({ point, from: e.from, overrides: e.overrides }, byPoint.get(e.from)!));
      } catch {
        // a point the suite as it is now cannot make: not counted
      }
    } else if (e.type === 'proposed') proposed.add(e.point);
    else if (e.type === 'pruned') pruned.add(e.point);
    else if (e.type === 'finished') finished = { chosen: e.chosen, experiments: e.experiments, grid: e.grid };
  }
  const keysOf = (ids: Iterable<string>) => [...ids].flatMap((id) => (byPoint.get(id) ?? []).map((x) => x.key));
  const points = searchSpace(suite.experiments, spec);
  const grid = spec.strategy === 'saturation' ? byContext(points).length * (2 + spec.saturation.rates) : points.length;
  return {
    proposed: keysOf(proposed),
    pruned: keysOf(pruned),
    points: {
      grid,
      proposed: proposed.size,
      pruned: pruned.size,
      undecided: finished ? 0 : Math.max(0, grid - proposed.size - pruned.size),
    },
    finished,
  };
}
