import type { SearchResult } from '@joules/runner';
import type { SuiteEvent } from './reporter.js';

type SearchEvent = Extract<SuiteEvent, { type: 'search-step' | 'search-verdict' | 'search-result' }>;

const num = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toPrecision(4));

/** A figure as `mean ± half-width (95 % CI, n cycles)`, or the mean alone below 2 cycles. */
function figure(result: SearchResult, column: string): string {
  const s = result.chosen?.figures[column];
  if (!s || s.mean === null) return '–';
  return s.ci95_half_width === null
    ? `${num(s.mean)} (n=${s.n})`
    : `${num(s.mean)} ± ${num(s.ci95_half_width)} (95 % CI, Student t, n=${s.n})`;
}

/** What the CLI prints for a search's events (plain lines, or above the bars on a terminal). */
export function searchLines(e: SearchEvent): string[] {
  if (e.type === 'search-step') {
    const pruned = e.pruned.length
      ? `; pruned ${e.pruned.length} (${e.pruned.map((p) => `${p.id}: ${p.reason === 'slo' ? 'fails the SLO' : 'dominated'} by ${p.by}`).join(', ')})`
      : '';
    return [`search step ${e.round}: ${e.propose.join(', ')}${pruned}`];
  }
  if (e.type === 'search-verdict')
    return [`  ${e.met ? 'meets' : 'fails'} the SLO: ${e.point} (objective ${num(e.objective)}, ${e.cycles} cycles)`];
  const r = e.result;
  const width = Math.max(12, r.objective.length, ...r.constraints.map((c) => c.column.length)) + 2;
  const row = (label: string, text: string) => `  ${label.padEnd(width)}${text}`;
  const lines = [
    r.chosen
      ? `search ${r.suite}: chose ${r.chosen.id} (least ${r.objective} meeting every constraint)`
      : `search ${r.suite}: no measured point meets every constraint`,
  ];
  if (r.chosen) {
    lines.push(row(r.objective, figure(r, r.objective)));
    for (const c of r.constraints) lines.push(row(c.column, `${figure(r, c.column)}  (SLO ${c.op} ${c.value})`));
  }
  lines.push(
    row(
      'experiments',
      `${r.experiments.search} run, against ${r.experiments.grid} in the full grid (${r.points.measured} of ${r.points.grid} points measured, ${r.pruned.length} pruned)`,
    ),
    row('pareto', `${r.pareto.x} vs ${r.pareto.y ?? '–'}: ${r.pareto.front.join(', ') || '–'}`),
  );
  if (r.saturation)
    lines.push(
      row(
        'saturation',
        `${r.saturation.point}: ${num(r.saturation.requests_per_s)} requests/s, ${num(r.saturation.output_tokens_per_s)} tokens/s`,
      ),
    );
  lines.push(row('result', e.file));
  return lines;
}
