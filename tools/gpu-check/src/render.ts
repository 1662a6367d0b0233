import type { CheckRow } from './check-rows.js';
import { GpuCheckError } from './errors.js';
import { BATCH_SIZES } from './experiments.js';
import type { Returned } from './returned.js';
import type { StepFigures } from './step-figures.js';

export const RESULTS_START = '<!-- gpu-check:results:start -->';
export const RESULTS_END = '<!-- gpu-check:results:end -->';
export const NO_FIGURES =
  'No GPU figures yet: no GPU has been lent to a task since the kit was built. The CPU rehearsal runs in `npm test`.';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const n = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? '—' : Number(x.toPrecision(digits)).toString();
const STATUS: Record<CheckRow['status'], string> = { pass: 'PASS', fail: 'FAIL', 'n/a': 'n/a', skipped: 'skipped' };

/** The results section: every check with its figure and bound, then the batch sweep and the steps. */
export function renderResults(returned: Returned, rows: readonly CheckRow[], figures: readonly StepFigures[]): string {
  const s = returned.summary;
  const when = new Date(s.started_unix_s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const head =
    s.mode === 'cpu'
      ? `**CPU rehearsal** (tiny model on CPU, faked NVML at a constant 300 W; ${s.cpu_overrides}): these are not GPU figures.`
      : `**GPU run** on ${s.device.name}.`;
  const lines = [
    head,
    '',
    `Run ${when}, ${n(s.wall_s, 3)} s in all; model ${s.model.shape} with ${s.model.num_parameters.toLocaleString('en-US')} parameters (built in ${n(s.model.build_s, 3)} s); the 1b shape has ${s.model_1b_parameters.toLocaleString('en-US')}.`,
    '',
    '| Check | Figure | Bound | Result |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.check)} | ${cell(r.figure)} | ${cell(r.bound)} | ${STATUS[r.status]} |`),
    '',
    '### Batch sweep',
    '',
    '| Batch | J/token | tokens/s | TTFT mean (s) | Peak memory (worker) | max_memory_allocated (reference) |',
    '|---|---|---|---|---|---|',
  ];
  const by = new Map(figures.map((f) => [f.step, f]));
  for (const b of BATCH_SIZES) {
    const m = by.get(`batch-${b}`)?.metrics;
    const ref = s.references.memory[`batch-${b}`]?.peak_bytes ?? null;
    lines.push(
      `| ${b} | ${n(m?.energy_per_token_j)} | ${n(m?.throughput_tokens_per_s)} | ${n(m?.ttft_mean_s)} | ${m?.peak_memory_max_process_bytes ?? '—'} (${m?.peak_memory_kind ?? '—'}) | ${ref ?? '—'} |`,
    );
  }
  lines.push(
    '',
    '### Steps',
    '',
    '| Step | Exit | Wall (s) | Window (s) | Energy (J) | Polling vs counter | Note |',
    '|---|---|---|---|---|---|---|',
  );
  for (const st of s.steps) {
    const f = by.get(st.name);
    const diff = f?.pollingDiff;
    lines.push(
      `| ${st.name} | ${st.skipped ? 'skipped' : (st.exit_code ?? 'timeout')} | ${n(st.wall_s, 3)} | ${n(f?.metrics?.total_time_s)} | ${n(f?.metrics?.energy_total_j)} | ${diff === null || diff === undefined ? '—' : `${(diff * 100).toFixed(2)} %`} | ${cell(f?.error ?? '')} |`,
    );
  }
  lines.push(
    '',
    `References measured in ${n(s.references.seconds, 3)} s; FLOPs reference ${s.references.flops ? `${n(s.references.flops.seconds, 3)} s` : '—'}.`,
  );
  return lines.join('\n');
}

/** Put ``section`` between the results markers of ``doc`` (the runbook stays as it is). */
export function spliceResults(doc: string, section: string): string {
  const start = doc.indexOf(RESULTS_START);
  const end = doc.indexOf(RESULTS_END);
  if (start < 0 || end < start)
    throw new GpuCheckError(`the document has no ${RESULTS_START} … ${RESULTS_END} markers`, 'BAD_DOC');
  return `${doc.slice(0, start + RESULTS_START.length)}\n${section}\n${doc.slice(end)}`;
}
