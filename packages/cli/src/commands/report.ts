import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { withResultsDb, writeFileAtomic } from '@joules/tracker';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';
import { renderReportHtml } from '../report/render-html.js';
import { loadReportData } from '../report/report-data.js';

/** `<out>.rows.parquet` beside the report (`report.html` → `report.rows.parquet`). */
export const rowsFileOf = (out: string): string => `${out.replace(/\.html?$/i, '')}.rows.parquet`;

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * `joules report`: one self-contained HTML file (charts and tables over the configurations,
 * aggregated by DuckDB; every experiment too for a small study) and, beside it, the raw rows as
 * Parquet (`<name>.rows.parquet`), linked from the page.
 */
export async function report(
  options: { resultsDir?: string; out?: string; title?: string; cwd?: string },
  output: Output,
): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const resultsDir = path.resolve(cwd, options.resultsDir ?? 'results');
  const out = path.resolve(cwd, options.out ?? 'joules-report.html');
  const rowsFile = rowsFileOf(out);
  const built = await withResultsDb(resultsDir, async (db) => {
    if (!db.views.includes('results')) return null;
    await mkdir(path.dirname(out), { recursive: true });
    // The rows are read from the CSV once, into the Parquet file; the aggregates read that.
    const { rows } = await db.exportParquet('SELECT * FROM results ORDER BY experiment_id', rowsFile);
    if (!rows) {
      await rm(rowsFile, { force: true });
      return null;
    }
    const data = await loadReportData(db, `read_parquet(${sqlString(rowsFile)})`);
    return renderReportHtml(data, {
      title: options.title ?? 'Joules report',
      generatedAt: new Date().toISOString(),
      source: resultsDir,
      rowsFile: { href: path.relative(path.dirname(out), rowsFile).split(path.sep).join('/'), rows },
    });
  });
  if (!built) {
    output.err(`no results in ${resultsDir}: nothing to report`);
    return EXIT.failed;
  }
  await writeFileAtomic(out, built);
  output.out(out);
  return EXIT.ok;
}
