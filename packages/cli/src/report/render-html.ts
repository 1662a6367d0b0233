import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { escapeHtml, scriptSafe, vegaScriptTags } from '@joules/watch';
import { reportCharts } from './charts.js';

const cell = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'number' ? Number(v.toPrecision(6)).toString() : String(v);

/**
 * One self-contained HTML file: vega, vega-lite and vega-embed inlined (works offline), the charts,
 * and a table of every experiment.
 */
export function renderReportHtml(
  rows: readonly ResultRecord[],
  meta: { title: string; generatedAt: string; source: string },
): string {
  const charts = reportCharts(rows);
  const table = [
    '<table><thead><tr>',
    ...RESULT_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`),
    '</tr></thead><tbody>',
    ...rows.map((r) => `<tr>${RESULT_COLUMNS.map((c) => `<td>${escapeHtml(cell(r[c]))}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  const estimated = rows.filter((r) => r.energy_estimated === true).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(meta.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}th{background:#f4f4f4;position:sticky;top:0}
.chart{margin:1.5rem 0}.note{color:#a33}</style></head>
<body><h1>${escapeHtml(meta.title)}</h1>
<p>${rows.length} experiment(s) from <code>${escapeHtml(meta.source)}</code>, generated ${escapeHtml(meta.generatedAt)} by Joules.</p>
${estimated ? `<p class="note">${estimated} of ${rows.length} experiment(s) have ESTIMATED energy (no hardware counter).</p>` : ''}
${charts.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n')}
<h2>Every experiment</h2>
${table}
${vegaScriptTags()}
<script>
const charts = ${scriptSafe(JSON.stringify(charts))};
window.joulesReport = Promise.all(charts.map((c) =>
  vegaEmbed('#' + c.id, c.spec, { renderer: 'svg', actions: false }).then((r) => [c.id, r.view])));
</script>
</body></html>
`;
}
