import path from 'node:path';
import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { withResultsDb, writeFileAtomic } from '@joules/tracker';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';
import { renderReportHtml } from '../report/render-html.js';

/** `joules report`: one self-contained HTML file (charts + every experiment) from the results folder. */
export async function report(
  options: { resultsDir?: string; out?: string; title?: string; cwd?: string },
  output: Output,
): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const rows = await withResultsDb(resultsDir, async (db) =>
    db.views.includes('results') ? db.query('SELECT * FROM results ORDER BY experiment_id') : [],
  );
  if (!rows.length) {
    output.err(`no results in ${resultsDir}: nothing to report`);
    return EXIT.failed;
  }
  const records = rows.map(
    (r) => Object.fromEntries(RESULT_COLUMNS.map((c) => [c, (r[c] ?? null) as ResultRecord[typeof c]])) as ResultRecord,
  );
  const out = path.resolve(cwd, options.out ?? 'joules-report.html');
  const html = renderReportHtml(records, {
    title: options.title ?? 'Joules report',
    generatedAt: new Date().toISOString(),
    source: resultsDir,
  });
  await writeFileAtomic(out, html);
  output.out(out);
  return EXIT.ok;
}
