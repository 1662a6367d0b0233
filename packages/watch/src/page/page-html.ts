import { escapeHtml, scriptSafe, vegaScriptTags } from '../vega-bundle.js';
import { EXPERIMENT_STATUSES } from '../views.js';
import { PAGE_SCRIPT } from './page-script.js';

const STATUS_OPTIONS = EXPERIMENT_STATUSES.map((s) => `<option value="${s}">${s}</option>`).join('');

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5rem 2rem;color:#222}h2{margin-top:1.6rem;font-size:1.1rem}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}th{background:#f4f4f4}
#conn{font-size:12px;padding:1px 6px;border-radius:3px;background:#eee}.st-running{background:#eef6ff}.st-failed{background:#fdecec}
.st-done{color:#555}#error{color:#a33}.muted{color:#777;font-size:12px}`;

/** The dashboard: one HTML document, the vega stack inlined (works offline), filled by server-sent events. */
export function renderWatchPage(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)} <span id="conn">connecting…</span></h1>
<p id="summary">waiting for the first update…</p><p class="muted" id="source"></p><p id="error"></p>
<h2>Progress per suite and model</h2><table id="progress"></table>
<h2>Running</h2><table id="running"></table>
<h2>Live power</h2><table id="power"></table>
<h2>Results as recorded</h2><div id="chart"></div><p class="muted" id="chart-note"></p>
<section id="serving-section" hidden><h2>Serving sweep</h2><div id="serving"></div><p class="muted" id="serving-note"></p></section>
<h2>Latest results</h2><p class="muted" id="results-note"></p><table id="results"></table>
<h2>Failures</h2><p id="no-failures" class="muted">none</p><p class="muted" id="failures-note"></p><table id="failures"></table>
<h2>Every experiment</h2>
<p class="muted"><button id="xp-prev">‹ previous</button> <span id="xp-range"></span> <button id="xp-next">next ›</button>
<select id="xp-status"><option value="">any status</option>${STATUS_OPTIONS}</select></p>
<table id="experiments"></table>
${vegaScriptTags()}
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body></html>
`;
}
