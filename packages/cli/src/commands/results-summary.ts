import type { CellValue, SampleMoments } from '@joules/metrics';
import type { ResultsDb } from '@joules/tracker';
import { type ConfigSummary, loadConfigSummaries, REPORT_METRICS, SERVING_METRICS } from '../report/report-data.js';
import { statsOf } from '../report/report-stats.js';

/** What `--summary` says about its method (on stderr, above the table). */
export const SUMMARY_METHOD =
  'per configuration (effective config hash): mean over its cycles and 95 % CI of the mean (Student t, n − 1 degrees of freedom); one cycle: no interval';

const num = (v: number | null) => (v === null ? null : Number(v.toPrecision(6)));
const short = (v: number | null) => (v === null ? '' : String(Number(v.toPrecision(4))));

const momentsOf = (c: ConfigSummary, m: string): SampleMoments | undefined =>
  (c.metrics as Record<string, SampleMoments>)[m] ?? (c.serving as Record<string, SampleMoments> | undefined)?.[m];

/**
 * Per configuration: model, name, cycles, then each figure some configuration has (the report's
 * metrics, and the serving ones for serving rows) as mean and 95 % interval over cycles. `table`:
 * one column per figure, `mean ± half-width`; else `<figure>_mean`, `_ci95_low`, `_ci95_high`,
 * `_ci95_half_width` as numbers (the names of the summaries' tables).
 */
export async function configSummaryRows(
  db: ResultsDb,
  table: boolean,
): Promise<{ columns: string[]; rows: Record<string, CellValue>[] }> {
  const configs = await loadConfigSummaries(db, 'results');
  const metrics = [...REPORT_METRICS, ...SERVING_METRICS].filter((m) =>
    configs.some((c) => (momentsOf(c, m)?.n ?? 0) > 0),
  );
  const suffixes = table ? [''] : ['_mean', '_ci95_low', '_ci95_high', '_ci95_half_width'];
  const columns = ['model_name', 'config_name', 'n', ...metrics.flatMap((m) => suffixes.map((s) => `${m}${s}`))];
  const rows = configs.map((c) => {
    const row: Record<string, CellValue> = {
      model_name: c.factors.model_name ?? null,
      config_name: c.config_name,
      n: c.n,
    };
    for (const m of metrics) {
      const moments = momentsOf(c, m);
      const s = moments && moments.n > 0 ? statsOf(moments) : null;
      if (table)
        row[m] = !s
          ? ''
          : s.ci95_half_width === null
            ? short(s.mean)
            : `${short(s.mean)} ± ${short(s.ci95_half_width)}`;
      else
        Object.assign(row, {
          [`${m}_mean`]: num(s?.mean ?? null),
          [`${m}_ci95_low`]: num(s?.ci95_low ?? null),
          [`${m}_ci95_high`]: num(s?.ci95_high ?? null),
          [`${m}_ci95_half_width`]: num(s?.ci95_half_width ?? null),
        });
    }
    return row;
  });
  return { columns, rows };
}
