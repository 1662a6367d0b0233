import { aggregateRanks, deriveMetrics, type ExperimentMetrics, type ProcessTotals } from '@joules/metrics';
import type { Returned, StepFiles, TimeseriesRow } from './returned.js';

export interface StepFigures {
  step: string;
  metrics: ExperimentMetrics | null;
  totals: ProcessTotals | null;
  /** (polling − counter) / counter per GPU reading, from the timeseries over the reading's window. */
  pollingDiff: number | null;
  error: string | null;
}

/** Trapezoid rule over one device's power samples inside [start, end] (J). */
export function trapezoidJ(
  rows: readonly TimeseriesRow[],
  deviceId: string,
  start: number,
  end: number,
): number | null {
  const pts = rows
    .filter((r) => r.device_id === deviceId && r.power_w !== null && r.t >= start && r.t <= end)
    .sort((a, b) => a.t - b.t);
  if (pts.length < 2) return null;
  let j = 0;
  for (let i = 1; i < pts.length; i++)
    j += ((pts[i]!.power_w! + pts[i - 1]!.power_w!) / 2) * (pts[i]!.t - pts[i - 1]!.t);
  return j;
}

function pollingDiff(files: StepFiles): number | null {
  const r0 = files.ranks[0];
  if (r0?.energy.method !== 'counter') return null;
  const { start_unix_s: start, end_unix_s: end } = r0.energy;
  const reading = r0.energy.readings.find((r) => r.scope === 'gpu' && r.energy_j !== null);
  const rows = files.timeseries.get(r0.rank);
  if (!reading || !rows || start === null || end === null || !reading.energy_j) return null;
  const polled = trapezoidJ(rows, reading.device_id, start, end);
  return polled === null ? null : (polled - reading.energy_j) / reading.energy_j;
}

/** Each step's figures from its rank files (aggregateRanks, deriveMetrics), or why it has none. */
export function stepFigures(returned: Returned): StepFigures[] {
  return returned.summary.steps.map((s) => {
    const files = returned.steps.get(s.name);
    const base = { step: s.name, metrics: null, totals: null, pollingDiff: null };
    if (s.skipped) return { ...base, error: `skipped: ${s.skipped}` };
    if (s.exit_code !== 0)
      return { ...base, error: s.timed_out ? 'timed out' : `worker exited ${s.exit_code}: ${tail(files?.stderr)}` };
    if (!files || files.ranks.length === 0) return { ...base, error: 'no rank files returned' };
    const totals = aggregateRanks(files.ranks);
    return { step: s.name, totals, metrics: deriveMetrics(totals), pollingDiff: pollingDiff(files), error: null };
  });
}

function tail(text: string | undefined): string {
  const lines = (text ?? '').trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}
