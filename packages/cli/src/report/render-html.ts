import { RESULT_COLUMNS, type ResultRecord, varyingFactors } from '@joules/metrics';
import type { FailureRow } from '@joules/tracker';
import { escapeHtml, vegaScriptTags } from '@joules/watch';
import { configTableHtml, scriptJson } from './config-table.js';
import { reportCharts } from './report-charts.js';
import { FACTOR_COLUMNS, type ReportData } from './report-data.js';
import { modelsOf } from './report-stats.js';
import { searchCharts, searchSectionHtml } from './search-section.js';

/** Failed experiments listed at most (the most recent); the count says how many there are. */
const FAILURES_LISTED = 100;

const cell = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v);

const htmlTable = (head: readonly string[], rows: readonly (readonly unknown[])[]) =>
  [
    '<table><thead><tr>',
    ...head.map((c) => `<th>${escapeHtml(c)}</th>`),
    '</tr></thead><tbody>',
    ...rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(cell(v))}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');

function failuresHtml(failures: readonly FailureRow[]): string {
  if (!failures.length) return '';
  const kinds = new Map<string, number>();
  for (const f of failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const listed = failures.slice(-FAILURES_LISTED);
  const by = [...kinds].map(([k, n]) => `${n} ${escapeHtml(k)}`).join(', ');
  return `<h2 id="failures">Failures</h2>
<p>${failures.length} experiment(s) failed for good (${by})${failures.length > listed.length ? `; the last ${listed.length} listed` : ''}.</p>
${htmlTable(
  ['experiment_id', 'model_name', 'config_name', 'attempt', 'kind', 'message', 'timestamp'],
  listed.map((f) => [
    f.experimentId,
    f.modelName,
    f.configName,
    f.attempt,
    f.kind,
    f.message.slice(0, 300),
    f.timestamp,
  ]),
)}`;
}

const everyExperimentHtml = (rows: readonly ResultRecord[]) =>
  `<h2 id="every-experiment">Every experiment</h2>\n${htmlTable(
    RESULT_COLUMNS,
    rows.map((r) => RESULT_COLUMNS.map((c) => r[c])),
  )}`;

/**
 * One self-contained HTML file: vega, vega-lite and vega-embed inlined (works offline), charts over
 * the configurations' aggregates, the failures, a paged table of configurations and, for a small
 * study, every experiment. `rowsFile` is the file of raw rows beside it, linked by a relative href.
 */
export function renderReportHtml(
  data: ReportData,
  meta: { title: string; generatedAt: string; source: string; rowsFile?: { href: string; rows: number } },
): string {
  const { charts, notes } = reportCharts(data);
  const search = data.search ? searchCharts(data.search, notes) : [];
  const searchHtml = data.search
    ? `${searchSectionHtml(data.search)}\n${search.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n')}`
    : '';
  const factors = varyingFactors(
    data.configs.map((c) => c.factors),
    FACTOR_COLUMNS,
  )
    .map((f) => f.column)
    .filter((c) => c !== 'model_name');
  const models = modelsOf(data.configs).length;
  const raw = meta.rowsFile
    ? `<p>Raw rows: <a id="rows-file" href="${escapeHtml(encodeURI(meta.rowsFile.href))}">${escapeHtml(meta.rowsFile.href)}</a> (${meta.rowsFile.rows} rows, Parquet; e.g. <code>duckdb -c "SELECT * FROM '${escapeHtml(meta.rowsFile.href)}'"</code>).</p>`
    : '';
  const estimated = data.estimated
    ? `<p class="note">${data.estimated} of ${data.experiments} experiment(s) have ESTIMATED energy (no hardware counter).</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(meta.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}td.text{text-align:left}th{background:#f4f4f4;position:sticky;top:0}
#configs th{cursor:pointer}#configs th[data-sorted=asc]::after{content:' ▲'}#configs th[data-sorted=desc]::after{content:' ▼'}.pager{margin:.5rem 0}.chart{margin:1.5rem 0}.note{color:#a33}</style></head>
<body><h1>${escapeHtml(meta.title)}</h1>
<p>${data.experiments} experiment(s) in ${data.configs.length} configuration(s) of ${models} model(s) from <code>${escapeHtml(meta.source)}</code>, generated ${escapeHtml(meta.generatedAt)} by Joules.
Intervals are 95 % confidence intervals of the mean (Student's t), as in the summaries.</p>
${raw}
${estimated}
${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
${searchHtml}
${data.search ? '<h2 id="charts">The configurations</h2>' : ''}
${charts.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n')}
${failuresHtml(data.failures)}
<h2 id="configurations">Configurations</h2>
${configTableHtml(data.configs, factors)}
${data.rows ? everyExperimentHtml(data.rows) : ''}
${vegaScriptTags()}
<script>
const charts = ${scriptJson([...search, ...charts])};
window.joulesReport = Promise.all(charts.map((c) =>
  vegaEmbed('#' + c.id, c.spec, { renderer: 'svg', actions: false }).then((r) => [c.id, r.view])));
</script>
</body></html>
`;
}
