import type { CellValue } from '@joules/metrics';
import { escapeHtml } from '@joules/watch';
import { type ConfigSummary, REPORT_METRICS, type ReportMetric } from './report-data.js';
import { round4, statsOf } from './report-stats.js';
import { TABLE_SCRIPT } from './table-script.js';

/** A column of the configurations table, stored compactly: text as a dictionary and codes, numbers rounded. */
export type TableColumn =
  | { label: string; kind: 'text'; dict: string[]; codes: number[] }
  | { label: string; kind: 'num'; values: (number | null)[] }
  | { label: string; kind: 'pm'; mean: (number | null)[]; half: (number | null)[] };

const METRIC_LABELS: Record<ReportMetric, string> = {
  energy_per_token_j: 'J/token',
  throughput_tokens_per_s: 'tokens/s',
  energy_total_j: 'energy (J)',
  latency_mean_s: 'latency (s)',
};

function textColumn(label: string, values: readonly CellValue[]): TableColumn {
  const index = new Map<string, number>();
  const codes = values.map((v) => {
    const s = v === null ? '' : String(v);
    let code = index.get(s);
    if (code === undefined) {
      code = index.size;
      index.set(s, code);
    }
    return code;
  });
  return { label, kind: 'text', dict: [...index.keys()], codes };
}

/**
 * The configurations as columns: model, name, the factors given, cycles, each report metric as
 * mean ± 95 % CI half-width, and the CV of J/token over cycles.
 */
export function configColumns(configs: readonly ConfigSummary[], factors: readonly string[]): TableColumn[] {
  const columns: TableColumn[] = [
    textColumn(
      'model',
      configs.map((c) => c.factors.model_name ?? null),
    ),
    textColumn(
      'configuration',
      configs.map((c) => c.config_name),
    ),
  ];
  for (const f of factors) {
    const values = configs.map((c) => c.factors[f] ?? null);
    columns.push(
      values.every((v) => v === null || typeof v === 'number')
        ? { label: f, kind: 'num', values: values as (number | null)[] }
        : textColumn(f, values),
    );
  }
  columns.push({ label: 'cycles', kind: 'num', values: configs.map((c) => c.n) });
  for (const m of REPORT_METRICS) {
    const stats = configs.map((c) => statsOf(c.metrics[m]));
    columns.push({
      label: METRIC_LABELS[m],
      kind: 'pm',
      mean: stats.map((s) => round4(s.mean)),
      half: stats.map((s) => round4(s.ci95_half_width)),
    });
  }
  const cv = configs.map((c) => statsOf(c.metrics.energy_per_token_j).cv);
  columns.push({ label: 'CV J/token (%)', kind: 'num', values: cv.map((v) => round4(v === null ? null : v * 100)) });
  return columns;
}

/** JSON that is safe inside any <script> element (no "<" at all). */
export const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** The paged, searchable, sortable table of configurations: its markup, data and script. */
export function configTableHtml(configs: readonly ConfigSummary[], factors: readonly string[], pageSize = 50): string {
  const columns = configColumns(configs, factors);
  return `<div class="pager"><input id="configs-search" type="search" placeholder="search configurations (model, name, factor…)" size="40">
<button id="configs-prev" type="button">‹ previous</button> <span id="configs-page"></span> <button id="configs-next" type="button">next ›</button></div>
<table id="configs"><thead><tr>${columns.map((c, i) => `<th data-col="${i}" title="sort">${escapeHtml(c.label)}</th>`).join('')}</tr></thead><tbody></tbody></table>
<script type="application/json" id="configs-data">${scriptJson({ rows: configs.length, pageSize, columns })}</script>
<script>${TABLE_SCRIPT}</script>`;
}
