import path from 'node:path';
import { loadSuiteFile } from '@joules/config';
import type { SearchProgress } from '@joules/runner';
import { estimateRemaining, ProgressJournal, type ProgressSummary, summarizeProgress } from '@joules/tracker';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';
import { textTable } from '../text-table.js';

/**
 * `joules status [suite.yaml]`: per suite and model, done / failed / pending / running / stale /
 * interrupted, and an ETA from past durations. With a suite file, keys not started yet count too;
 * for a search suite only the points its log says it proposed (the rest are pruned or not decided
 * yet, and may never run: see searchLine).
 */
export async function status(
  options: { suite?: string; resultsDir?: string; json?: boolean; cwd?: string; maxParallel?: number },
  output: Output,
): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  let keys: string[] | undefined;
  let search: SearchProgress | undefined;
  if (options.suite) {
    const loaded = await loadSuiteFile(path.resolve(cwd, options.suite), {
      resolvePaths: true,
      cwd,
      skipInvalid: true,
    });
    if (!loaded.result.config) {
      for (const e of loaded.result.errors) output.err(e);
      return EXIT.usage;
    }
    keys = loaded.experiments.map((e) => e.key);
    const spec = loaded.result.config.search;
    if (spec) {
      const { searchProgress } = await import('@joules/runner');
      const name = loaded.result.config.name;
      search = await searchProgress(resultsDir, { name, experiments: loaded.experiments, search: spec });
      keys = search.proposed;
    }
  }
  const journal = await ProgressJournal.open(resultsDir);
  const summary: ProgressSummary = summarizeProgress(journal, keys ? { keys } : {});
  const remaining = [...(keys ?? [...journal.entries()].map((e) => e.key))].filter(
    (k) => journal.get(k)?.status !== 'done',
  );
  const eta = estimateRemaining(journal, remaining, { concurrency: options.maxParallel ?? 1 });
  if (options.json) {
    output.out(
      JSON.stringify({ results_dir: resultsDir, ...summary, eta, ...(search && { search: searchJson(search) }) }),
    );
    return EXIT.ok;
  }
  const cols = ['suite', 'model', 'done', 'failed', 'pending', 'running', 'stale', 'interrupted', 'total'];
  const row = (suite: string | null, model: string, c: ProgressSummary['total']) => [
    suite ?? '',
    model,
    c.done,
    c.failed,
    c.pending,
    c.running,
    c.stale,
    c.interrupted,
    c.total,
  ];
  output.out(
    textTable(cols, [
      ...summary.groups.map((g) => row(g.suite, path.basename(g.model), g.counts)),
      row('all', '', summary.total),
    ]),
  );
  if (search) output.out(searchLine(search));
  output.out(
    eta.seconds === null
      ? 'ETA: unknown (no finished experiment to learn durations from)'
      : `ETA: ~${Math.ceil(eta.seconds / 60)} min for ${remaining.length} experiment(s) left (from ${eta.basedOn} past durations)`,
  );
  return EXIT.ok;
}

const searchJson = ({ points, pruned, finished }: SearchProgress) => ({
  points,
  pruned_experiments: pruned.length,
  finished,
});

/**
 * A search's line: its points proposed (the table counts their experiments), pruned and not
 * decided yet, against the full grid; the chosen point once it is finished.
 */
export function searchLine({ points, pruned, finished }: SearchProgress): string {
  const head = `search: ${points.proposed} of ${points.grid} grid points proposed (counted above), ${points.pruned} pruned (${pruned.length} experiments never run)`;
  if (finished)
    return `${head}; finished: ${finished.experiments} experiments against the grid's ${finished.grid}, chosen ${finished.chosen ?? 'none (no point met the SLO)'}`;
  return `${head}, ${points.undecided} not decided yet (the search proposes or prunes them as it goes)`;
}
