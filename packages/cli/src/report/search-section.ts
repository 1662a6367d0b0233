import type { SampleStatistics } from '@joules/metrics';
import type { MeasuredPoint, SearchResult } from '@joules/runner';
import { escapeHtml } from '@joules/watch';
import type { ChartSpec } from './chart-specs.js';
import { domainOf, round4 } from './report-stats.js';
import { searchParetoChart } from './search-specs.js';

const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(round4(v)));

/** A figure as `mean ± half-width` (95 % CI), or the mean alone below 2 cycles. */
export function figureText(s: SampleStatistics | undefined): string {
  if (!s || s.mean === null) return '–';
  return s.ci95_half_width === null ? num(s.mean) : `${num(s.mean)} ± ${num(s.ci95_half_width)}`;
}

const interval = (s: SampleStatistics | undefined) =>
  s && s.ci95_low !== null && s.ci95_high !== null ? `[${num(s.ci95_low)}, ${num(s.ci95_high)}]` : '–';

/** One measured point as the search chart reads it: x the SLO's latency, y the objective, each with its CI. */
export function searchPoints(r: SearchResult) {
  const front = new Set(r.pareto.front);
  const stat = (p: MeasuredPoint, c: string | null) => {
    const s = c === null ? undefined : p.figures[c];
    const mean = s?.mean ?? null;
    return { mean: round4(mean), low: round4(s?.ci95_low ?? mean), high: round4(s?.ci95_high ?? mean) };
  };
  return r.measured.map((p) => {
    const x = stat(p, r.pareto.y);
    const y = stat(p, r.objective);
    return {
      id: p.id,
      config: p.config,
      n: p.cycles,
      x: x.mean,
      x_low: x.low,
      x_high: x.high,
      y: y.mean,
      y_low: y.low,
      y_high: y.high,
      verdict: p.met ? 'met the SLO' : 'failed the SLO',
      front: front.has(p.id),
      role: front.has(p.id) ? 'on the Pareto front' : 'dominated',
      chosen: r.chosen?.id === p.id,
    };
  });
}

/** The search's chart: the measured points against the SLO's latency, the front, the chosen point. */
export function searchCharts(r: SearchResult, notes: string[]): ChartSpec[] {
  if (r.pareto.y === null) {
    notes.push('The search has no upper-bound (≤) constraint: no latency to draw its Pareto front against.');
    return [];
  }
  const slo = r.constraints.find((c) => c.column === r.pareto.y && c.op === '<=')?.value ?? null;
  const points = searchPoints(r);
  const xDomain = domainOf([...points.map((p) => p.x), slo]);
  const yDomain = domainOf(points.map((p) => p.y));
  return [searchParetoChart('search-pareto', points, { x: r.pareto.y, y: r.objective, slo, xDomain, yDomain })];
}

/** The search section: what it looked for, the chosen point's figures with their 95 % CIs, its cost against the grid. */
export function searchSectionHtml(r: SearchResult): string {
  const slo = r.constraints.map((c) => `${c.column} ${c.op} ${c.value}`).join(', ') || 'none';
  const cost = `<p id="search-cost"><strong>${r.experiments.search} experiments run vs ${r.experiments.grid} for the full grid</strong> (${r.points.measured} of ${r.points.grid} points measured, ${r.pruned.length} pruned).</p>`;
  const head = `<h2 id="search">Search: ${escapeHtml(r.suite)}</h2>
<p>The least <code>${escapeHtml(r.objective)}</code> under the SLO <code>${escapeHtml(slo)}</code> (strategy ${escapeHtml(r.strategy)}, seed ${r.seed}); the SLO is judged on the mean over cycles.</p>
${cost}`;
  const saturation = r.saturation
    ? `<p>Saturation: <code>${escapeHtml(r.saturation.point)}</code>, ${num(r.saturation.requests_per_s)} requests/s, ${num(r.saturation.output_tokens_per_s)} output tokens/s.</p>`
    : '';
  if (!r.chosen) return `${head}\n<p class="note">No measured point meets every constraint.</p>\n${saturation}`;
  const c = r.chosen;
  const columns = [...new Set([r.objective, ...r.constraints.map((k) => k.column)])];
  const rows = columns.map((col) => {
    const k = r.constraints.find((x) => x.column === col);
    const role = col === r.objective ? 'objective (least)' : `SLO ${k?.op} ${k?.value}`;
    const s = c.figures[col];
    return `<tr><td class="text">${escapeHtml(col)}</td><td>${escapeHtml(figureText(s))}</td><td>${escapeHtml(interval(s))}</td><td>${s?.n ?? 0}</td><td class="text">${escapeHtml(role)}</td></tr>`;
  });
  const factors = Object.entries(c.factors)
    .map(([k, v]) => `${escapeHtml(k)} = ${escapeHtml(String(v))}`)
    .join(', ');
  return `${head}
<p id="search-chosen">Chosen: <strong>${escapeHtml(c.id)}</strong> (${factors || 'no factors'}; ${c.cycles} cycle(s)).</p>
<table id="search-figures"><thead><tr><th>figure</th><th>mean ± 95 % CI half-width</th><th>95 % CI</th><th>cycles</th><th>role</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${saturation}`;
}
