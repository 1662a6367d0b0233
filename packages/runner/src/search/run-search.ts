import path from 'node:path';
import type { SearchSpec, SuiteExperiment } from '@joules/config';
import { type BatchResult, closeServers } from '@joules/launcher';
import { resumeSuite, writeJsonAtomic } from '@joules/tracker';
import type { EventSink } from '../events.js';
import type { SuiteOutcome } from '../outcomes.js';
import type { RunnableSuite } from '../suite/load-suite.js';
import type { SuiteRun } from '../suite/suite-run.js';
import { tallySuite } from '../suite/tally-suite.js';
import { derivedExperiments, experimentsByPoint } from './point-experiments.js';
import { SearchLog } from './search-log.js';
import { type SearchResult, searchResult } from './search-outcome.js';
import { searchSignature } from './search-progress.js';
import { type RoundOptions, runRound } from './search-round.js';
import { pointState, readResultRows } from './search-rows.js';
import { byContext, type PrunedPoint, type SearchPoint, searchSpace, type Verdict } from './search-space.js';
import { judgePoint, type NumericRow, searchColumns } from './search-verdict.js';
import { strategyStep } from './strategy-step.js';

export const SEARCH_RESULT_FILE = 'search_result.json';

export interface SearchRunContext {
  suite: RunnableSuite & { search: SearchSpec };
  resultsDir: string;
  emit: EventSink;
  /** A host-level energy reader of this experiment runs beside other jobs. */
  hostShared: (e: SuiteExperiment) => boolean;
  round: RoundOptions;
  startedAtMs: number;
}

/**
 * A search suite: from the results so far the strategy proposes points, they run as the suite's
 * experiments (each point for every cycle, with its normal key), their verdicts decide the next
 * step, until the strategy is done. Every decision goes into the search log; the result goes to
 * `search_result.json`. Killed and started again, it derives the same decisions from the journal
 * and the results CSV and continues where it was: no finished experiment runs again.
 */
export async function runSearch(c: SearchRunContext): Promise<SuiteOutcome> {
  const { suite, resultsDir, emit } = c;
  const spec = suite.search;
  const points: SearchPoint[] = searchSpace(suite.experiments, spec);
  const byPoint = experimentsByPoint(suite.experiments);
  const items = suite.experiments.map((e) => ({ key: e.key, configHash: e.hash }));
  const { journal } = await resumeSuite(resultsDir, items, {});
  const byKey = new Map(suite.experiments.map((e) => [e.key, e])); // grows with derived points
  const run: SuiteRun = {
    resultsDir,
    emit,
    journal,
    byKey,
    ids: new Map(),
    startedAt: new Map(),
    reattach: new Map(),
    hostShared: c.hostShared,
    writes: [],
    energyJ: 0,
    outcomes: new Map(),
  };
  const log = await SearchLog.open(resultsDir, suite.name, searchSignature(spec));
  const gridPoints =
    spec.strategy === 'saturation' ? byContext(points).length * (2 + spec.saturation.rates) : points.length;
  const done = items.filter((i) => journal.get(i.key)?.status === 'done').length;
  emit({
    type: 'notice',
    level: 'info',
    message: `search ${suite.name}: ${spec.strategy} over ${gridPoints} points × ${suite.cycles} cycles; decisions in ${path.relative(resultsDir, log.file)}`,
  });
  emit({
    type: 'suite-planned',
    suite: suite.name,
    total: gridPoints * suite.cycles,
    toRun: gridPoints * suite.cycles - done,
    skipped: done,
    resultsDir,
  });

  const verdicts = new Map<string, Verdict>();
  const rows = new Map<string, NumericRow[]>();
  const pruned = new Map<string, PrunedPoint>();
  const results: BatchResult[] = [];
  let skipped = 0;
  let finished = false;
  try {
    for (let round = 1; ; ) {
      await judgeSettled();
      const step = strategyStep(points, verdicts, spec);
      const fresh = step.derived.filter((d) => !byPoint.has(d.point.id));
      if (fresh.length) {
        for (const d of fresh) {
          const experiments = derivedExperiments(d, byPoint.get(d.from)!);
          byPoint.set(d.point.id, experiments);
          for (const e of experiments) byKey.set(e.key, e);
          points.push(d.point);
        }
        await log.append(
          fresh.map((d) => ({ type: 'derived', point: d.point.id, from: d.from, overrides: d.overrides })),
        );
        continue; // judge the new points (a rerun may have them done) before proposing
      }
      const newlyPruned = step.pruned.filter((p) => !pruned.has(p.id));
      for (const p of newlyPruned) pruned.set(p.id, p);
      await log.append(newlyPruned.map((p) => ({ type: 'pruned', point: p.id, reason: p.reason, by: p.by })));
      if (step.done) {
        finished = true;
        break;
      }
      await log.append(step.propose.map((point) => ({ type: 'proposed', point, round })));
      emit({ type: 'search-step', suite: suite.name, round, propose: step.propose, pruned: newlyPruned });
      const round_ = await runRound(
        run,
        step.propose.flatMap((id) => byPoint.get(id)!),
        c.round,
      );
      results.push(...round_.results);
      skipped += round_.skipped;
      const interrupted = round_.results.some((r) => r.outcome.status === 'interrupted');
      if (c.round.signal?.aborted || interrupted || (!round_.results.length && round_.stuck.length)) break;
      round++;
    }
  } finally {
    await closeServers(); // engine "server": the last server ends with the search
  }

  const tally = tallySuite(run, results, { skipped, startedAtMs: c.startedAtMs });
  const outcome = { suite: suite.name, resultsDir, total: gridPoints * suite.cycles, ...tally };
  let result: SearchResult | undefined;
  if (finished) {
    const facts = { suite: suite.name, spec, cycles: suite.cycles, points, gridPoints, verdicts, rows };
    result = searchResult({ ...facts, pruned: [...pruned.values()] });
    const file = path.join(resultsDir, SEARCH_RESULT_FILE);
    await writeJsonAtomic(file, result);
    const { experiments } = result;
    await log.append([
      { type: 'finished', chosen: result.chosen?.id ?? null, experiments: experiments.search, grid: experiments.grid },
    ]);
    emit({ type: 'search-finished', file, result });
  }
  emit({ type: 'suite-finished', ...tally });
  return { ...outcome, experiments: [...run.outcomes.values()], ...(result && { search: result }) };

  /** Verdicts of the points whose every cycle is done or failed, logged and sent out once each. */
  async function judgeSettled(): Promise<void> {
    const open = points.filter((p) => !verdicts.has(p.id));
    const states = open.map((p) => ({
      p,
      ...pointState(
        journal,
        byPoint.get(p.id)!.map((e) => e.key),
      ),
    }));
    if (!states.some((s) => s.settled)) return;
    const table = await readResultRows(resultsDir, searchColumns(spec));
    for (const { p, settled, ids } of states) {
      if (!settled) continue;
      const measured = ids.map((id) => table.get(id)).filter((r): r is NumericRow => r !== undefined);
      const v = judgePoint(measured, spec);
      verdicts.set(p.id, v);
      rows.set(p.id, measured);
      const { met, objective, means, cycles } = v;
      await log.append([{ type: 'verdict', point: p.id, met, objective, means }]);
      emit({ type: 'search-verdict', point: p.id, met, objective, means, cycles });
    }
  }
}
