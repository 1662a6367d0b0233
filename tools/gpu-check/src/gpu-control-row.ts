import type { CheckRow } from './check-rows.js';
import type { Returned } from './returned.js';

const w = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${x} W`);

/**
 * The GPU guard step: GPU 0's power limit set within its constraints, read back from NVML, restored.
 * A refusal (the lent machine gives no root or CAP_SYS_ADMIN) is `n/a` with the guard's message: it
 * shows the refusal path works, not that setting does.
 */
export function gpuControlRow(returned: Returned): CheckRow {
  const check = 'gpu.power_limit_w: set by the GPU guard, read back, restored';
  const bound = 'read back = requested; after = before';
  const g = returned.summary.gpu_control;
  if (!g) return { check, bound, figure: 'not in this kit', status: 'skipped' };
  if (g.status === 'skipped') return { check, bound, figure: g.message ?? 'not asked', status: 'skipped' };
  if (g.status === 'refused') return { check, bound, figure: `refused: ${g.message ?? ''}`, status: 'n/a' };
  const figure =
    `before ${w(g.before?.limit_w)} (range ${g.before?.constraints_w.join('–') ?? '—'} W), requested ${w(g.requested_w)}, ` +
    `read back ${w(g.read_back_w)}, after ${w(g.after?.limit_w)}${g.message ? `: ${g.message}` : ''}`;
  return { check, bound, figure, status: g.status === 'pass' ? 'pass' : 'fail' };
}
