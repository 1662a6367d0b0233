import { PROGRESS_STATUSES, type ProgressSummary } from '@joules/tracker/follow';
import { DURATION_BUCKETS, type DurationHistogram } from './done-durations.js';
import type { PowerReading } from './live-runs.js';

export { DURATION_BUCKETS } from './done-durations.js';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const value = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

class Exposition {
  readonly lines: string[] = [];
  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    return this;
  }
  sample(name: string, l: Record<string, string>, v: number): this {
    this.lines.push(`${name}${labels(l)} ${value(v)}`);
    return this;
  }
}

export interface MetricsInput {
  /** Every recorded experiment by suite and model (the status' progress groups). */
  progress: ProgressSummary;
  power: readonly PowerReading[];
  /** Sum of energy_total_j of the result rows, by suite ('' for none). */
  energyBySuite: ReadonlyMap<string, number>;
  /** Done experiments' durations, by suite. */
  durations: ReadonlyMap<string, DurationHistogram>;
  /** Failed attempts by kind. */
  failureKinds: ReadonlyMap<string, number>;
  server: { clients: number; dropped: number };
}

/**
 * `/metrics`: the Prometheus text exposition format (version 0.0.4). Its size does not grow with
 * the rows: one sample per suite × status, device, suite, bucket and failure kind.
 */
export function renderMetrics(m: MetricsInput): string {
  const x = new Exposition();
  x.family(
    'joules_experiments',
    'gauge',
    'Experiments of the results folder by suite and status: the progress journal keys, plus result rows (done) and final failures (failed) that no journal key covers.',
  );
  const bySuite = new Map<string, Record<string, number>>();
  for (const g of m.progress.groups) {
    const suite = g.suite ?? '';
    const acc = bySuite.get(suite) ?? bySuite.set(suite, {}).get(suite)!;
    for (const s of [...PROGRESS_STATUSES, 'stale'] as const) acc[s] = (acc[s] ?? 0) + g.counts[s];
  }
  for (const [suite, counts] of [...bySuite].sort())
    for (const [s, n] of Object.entries(counts)) x.sample('joules_experiments', { suite, status: s }, n);

  x.family('joules_power_watts', 'gauge', 'Latest power sample of each device of a running experiment.');
  for (const p of m.power) x.sample('joules_power_watts', { host: p.host, device: p.device }, p.watts);

  x.family(
    'joules_energy_joules_total',
    'counter',
    'Energy of the recorded experiments (sum of energy_total_j) by suite.',
  );
  for (const [suite, j] of [...m.energyBySuite].sort()) x.sample('joules_energy_joules_total', { suite }, j);

  x.family(
    'joules_experiment_duration_seconds',
    'histogram',
    'Wall time of done experiments (latest attempt, start to finish) by suite.',
  );
  for (const [suite, h] of [...m.durations].sort()) {
    if (h.count === 0) continue;
    for (const [i, le] of DURATION_BUCKETS.entries())
      x.sample('joules_experiment_duration_seconds_bucket', { suite, le: String(le) }, h.buckets[i]!);
    x.sample('joules_experiment_duration_seconds_bucket', { suite, le: '+Inf' }, h.count);
    x.sample('joules_experiment_duration_seconds_sum', { suite }, h.sum);
    x.sample('joules_experiment_duration_seconds_count', { suite }, h.count);
  }

  x.family('joules_failures_total', 'counter', 'Failed attempts (failed_experiments.csv rows) by failure kind.');
  for (const [kind, n] of [...m.failureKinds].sort()) x.sample('joules_failures_total', { kind }, n);

  x.family('joules_watch_clients', 'gauge', 'Dashboard pages connected by server-sent events.').sample(
    'joules_watch_clients',
    {},
    m.server.clients,
  );
  x.family(
    'joules_watch_dropped_clients_total',
    'counter',
    'Event-stream clients dropped for reading too slowly.',
  ).sample('joules_watch_dropped_clients_total', {}, m.server.dropped);
  return `${x.lines.join('\n')}\n`;
}
