import { servingMetrics } from '@joules/metrics';
import { BATCH_SIZES } from './experiments.js';
import { gpuControlRow } from './gpu-control-row.js';
import type { Returned } from './returned.js';
import type { StepFigures } from './step-figures.js';

export type Status = 'pass' | 'fail' | 'n/a' | 'skipped';

export interface CheckRow {
  check: string;
  figure: string;
  bound: string;
  status: Status;
}

export const BOUNDS = { counterVsPolling: 0.05, flops: 0.02, memory: 0.05 } as const;

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} %`;
const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? '—' : Number(x.toPrecision(digits)).toString();
const mib = (b: number | null | undefined) => (b === null || b === undefined ? '—' : `${(b / 2 ** 20).toFixed(1)} MiB`);

const failed = (check: string, bound: string, why: string): CheckRow => ({ check, figure: why, bound, status: 'fail' });

/** Every check with its figure and bound, derived from the returned raw files. */
export function checkRows(returned: Returned, figures: readonly StepFigures[]): CheckRow[] {
  const by = new Map(figures.map((f) => [f.step, f]));
  const cpu = returned.summary.mode === 'cpu';
  return [
    counterRow(by),
    idleRow(by),
    jPerTokenRow(by),
    ...memoryRows(returned, by, cpu),
    flopsRow(returned, by),
    mfuRow(returned, by),
    countedOnceRow(returned, by),
    servingRow(returned, by),
    gpuControlRow(returned),
  ];
}

function counterRow(by: Map<string, StepFigures>): CheckRow {
  const check = 'NVML energy counter vs power polling (energy step, same window)';
  const bound = `|diff| ≤ ${BOUNDS.counterVsPolling * 100} %`;
  const f = by.get('energy');
  if (!f || f.error) return failed(check, bound, f?.error ?? 'no energy step');
  if (f.pollingDiff === null)
    return failed(check, bound, `no counter reading with a timeseries (method ${f.totals?.energy_backend})`);
  return {
    check,
    bound,
    figure: `polling ${pct(f.pollingDiff)} vs counter`,
    status: Math.abs(f.pollingDiff) <= BOUNDS.counterVsPolling ? 'pass' : 'fail',
  };
}

function idleRow(by: Map<string, StepFigures>): CheckRow {
  const check = 'Idle power and idle-adjusted energy (energy step)';
  const bound = '0 < idle W ≤ mean window W; 0 ≤ adjusted ≤ total';
  const m = by.get('energy')?.metrics;
  if (!m) return failed(check, bound, by.get('energy')?.error ?? 'no energy step');
  const idle = m.idle_power_w;
  const total = m.energy_total_j;
  const adjusted = m.energy_adjusted_j;
  if (idle === null || total === null || adjusted === null) return failed(check, bound, 'no idle power measured');
  const meanW = total / m.total_time_s;
  const ok = idle > 0 && idle <= meanW * 1.0001 && adjusted >= 0 && adjusted <= total;
  return {
    check,
    bound,
    figure: `idle ${num(idle)} W, window mean ${num(meanW)} W; ${num(total)} J → ${num(adjusted)} J adjusted`,
    status: ok ? 'pass' : 'fail',
  };
}

function jPerTokenRow(by: Map<string, StepFigures>): CheckRow {
  const check = `J/token over batch sizes ${BATCH_SIZES.join(', ')}`;
  const bound = 'strictly falling';
  const values = BATCH_SIZES.map((b) => by.get(`batch-${b}`)?.metrics?.energy_per_token_j ?? null);
  if (values.some((v) => v === null))
    return failed(check, bound, `missing: ${BATCH_SIZES.filter((_, i) => values[i] === null).join(', ')}`);
  const v = values as number[];
  const falling = v.every((x, i) => i === 0 || x < v[i - 1]!);
  return { check, bound, figure: v.map((x) => num(x)).join(' → '), status: falling ? 'pass' : 'fail' };
}

function memoryRows(returned: Returned, by: Map<string, StepFigures>, cpu: boolean): CheckRow[] {
  return BATCH_SIZES.map((b) => {
    const name = `batch-${b}`;
    const check = `Peak memory, batch ${b}: worker vs torch.cuda.max_memory_allocated`;
    const bound = `within ${BOUNDS.memory * 100} %`;
    const ref = returned.summary.references.memory[name];
    const t = by.get(name)?.totals;
    if (cpu || (ref && ref.peak_bytes === null))
      return { check, bound, figure: ref?.reason ?? 'CPU rehearsal: no CUDA allocator', status: 'n/a' };
    if (!t || !ref) return failed(check, bound, by.get(name)?.error ?? 'no reference');
    const peak = t.peak_memory_max_process_bytes;
    if (peak === null || ref.peak_bytes === null) return failed(check, bound, 'peak memory not measured');
    const diff = (peak - ref.peak_bytes) / ref.peak_bytes;
    const kindOk = t.peak_memory_kind === 'cuda_max_allocated';
    return {
      check,
      bound,
      figure: `${mib(peak)} vs ${mib(ref.peak_bytes)} (${pct(diff)}, ${t.peak_memory_kind})`,
      status: kindOk && Math.abs(diff) <= BOUNDS.memory ? 'pass' : 'fail',
    };
  });
}

function flopsRow(returned: Returned, by: Map<string, StepFigures>): CheckRow {
  const ref = returned.summary.references.flops;
  const check = 'FLOPs (flop_counter method) vs FlopCounterMode over the same batches';
  const bound = `within ${BOUNDS.flops * 100} %`;
  const t = ref ? by.get(ref.experiment)?.totals : null;
  if (!ref || !t) return failed(check, bound, 'no FLOPs reference or no batch-8 step');
  const diff = (t.flops_total - ref.total) / ref.total;
  const figure = `${num(t.flops_total)} (${t.flops_method}) vs ${num(ref.total)} (${ref.attn_implementation ?? 'default'} attention): ${pct(diff)}`;
  return {
    check,
    bound,
    figure,
    status: t.flops_method === 'flop_counter' && Math.abs(diff) <= BOUNDS.flops ? 'pass' : 'fail',
  };
}

function mfuRow(returned: Returned, by: Map<string, StepFigures>): CheckRow {
  const check = 'Model FLOPs utilisation (batch 64)';
  const bound = '0 < MFU ≤ 1 (a figure, not a target)';
  const peak = returned.summary.device.peak_bf16_flops;
  const m = by.get('batch-64')?.metrics;
  if (peak === null) return { check, bound, figure: returned.summary.device.peak_reason ?? 'no peak', status: 'n/a' };
  if (!m) return failed(check, bound, by.get('batch-64')?.error ?? 'no batch-64 step');
  const mfu = m.flops_total / m.total_time_s / peak;
  return {
    check,
    bound,
    figure: `${(mfu * 100).toFixed(2)} % of ${num(peak / 1e12)} TFLOP/s`,
    status: mfu > 0 && mfu <= 1 ? 'pass' : 'fail',
  };
}

function countedOnceRow(returned: Returned, by: Map<string, StepFigures>): CheckRow {
  const check = 'Two ranks on one GPU: the device counted once';
  const bound = 'reported by 2 ranks, counted exactly once, total = the larger reading';
  const f = by.get('two-ranks');
  const files = returned.steps.get('two-ranks');
  if (!f?.totals || !files) return failed(check, bound, f?.error ?? 'no two-ranks step');
  const gpu = files.ranks.flatMap((r) => r.energy.readings.filter((x) => x.scope === 'gpu'));
  const ids = new Set(gpu.map((r) => r.device_id));
  const counted = f.totals.energy_counted_readings.filter((r) => r.scope === 'gpu');
  const largest = Math.max(...gpu.map((r) => r.energy_j ?? -1));
  const ok =
    files.ranks.length === 2 &&
    gpu.length === 2 &&
    ids.size === 1 &&
    counted.length === 1 &&
    f.totals.energy_by_scope_j.gpu === largest;
  const figure = `${files.ranks.length} ranks, ${gpu.length} GPU readings of ${ids.size} device(s), ${counted.length} counted; gpu ${num(f.totals.energy_by_scope_j.gpu)} J (readings ${gpu.map((r) => num(r.energy_j)).join(', ')} J)`;
  return { check, bound, figure, status: ok ? 'pass' : 'fail' };
}

function servingRow(returned: Returned, by: Map<string, StepFigures>): CheckRow {
  const check = 'transformers serve at concurrency 1 and 16';
  const steps = returned.summary.steps.filter((s) => s.check === 'serving');
  const skippedStep = steps.find((s) => s.skipped);
  if (steps.length === 0 || skippedStep) {
    return { check, bound: 'optional', figure: skippedStep?.skipped ?? 'not in this kit', status: 'skipped' };
  }
  const serving = (name: string) => {
    const files = returned.steps.get(name);
    return files?.serving && files.requests
      ? servingMetrics(files.requests, files.serving, { ttft_ms: null, tpot_ms: null })
      : undefined;
  };
  const parts = steps.map((s) => {
    const m = by.get(s.name)?.metrics;
    if (!m) return `${s.name}: ${by.get(s.name)?.error ?? 'no figures'}`;
    const v = serving(s.name);
    const steady = v
      ? `, steady ${num(v.serving_steady_energy_per_token_j)} J/token (${v.serving_steady_energy_method ?? 'no steady window'})`
      : ', no serving summary';
    return `${s.name}: ${num(m.throughput_tokens_per_s)} tokens/s, TTFT ${num(m.ttft_mean_s)} s, ${num(m.energy_per_token_j)} J/token${steady}`;
  });
  // The steady window's joules are read from the GPU's counters, not prorated (the ML.ENERGY figure).
  const ok = steps.every(
    (s) =>
      by.get(s.name)?.metrics?.energy_per_token_j != null &&
      serving(s.name)?.serving_steady_energy_method === 'counters_sampled',
  );
  return {
    check,
    bound: 'both runs measured, the steady window from the counters (a figure, no bound)',
    figure: parts.join('; '),
    status: ok ? 'pass' : 'fail',
  };
}
