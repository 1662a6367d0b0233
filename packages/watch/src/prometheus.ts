import type { ProgressEntry } from '@joules/tracker';
import { PROGRESS_STATUSES, parseProgressKey } from '@joules/tracker';
import type { WatchStatus } from './watch-status.js';

/** Upper bounds (seconds) of the experiment duration histogram. */
export const DURATION_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600] as const;

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

const suiteOf = (key: string) => {
  try {
    return parseProgressKey(key).suite ?? '';
  } catch {
    return '';
  }
};

/** Seconds from start to finish of each done experiment's latest attempt, per suite. */
function durations(entries: readonly ProgressEntry[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of entries) {
    if (e.status !== 'done' || !e.startedAt || !e.finishedAt) continue;
    const s = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
    if (!Number.isFinite(s) || s < 0) continue;
    const suite = suiteOf(e.key);
    (out.get(suite) ?? out.set(suite, []).get(suite)!).push(s);
  }
  return out;
}

/** `/metrics`: the Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(
  status: WatchStatus,
  entries: readonly ProgressEntry[],
  server: { clients: number; dropped: number },
): string {
  const x = new Exposition();
  x.family('joules_experiments', 'gauge', 'Experiments of the results folder by suite and status (progress journal).');
  const bySuite = new Map<string, Record<string, number>>();
  for (const g of status.progress.groups) {
    const suite = g.suite ?? '';
    const acc = bySuite.get(suite) ?? bySuite.set(suite, {}).get(suite)!;
    for (const s of [...PROGRESS_STATUSES, 'stale'] as const) acc[s] = (acc[s] ?? 0) + g.counts[s];
  }
  for (const [suite, counts] of [...bySuite].sort())
    for (const [s, n] of Object.entries(counts)) x.sample('joules_experiments', { suite, status: s }, n);

  x.family('joules_power_watts', 'gauge', 'Latest power sample of each device of a running experiment.');
  for (const p of status.power) x.sample('joules_power_watts', { host: p.host, device: p.device }, p.watts);

  x.family(
    'joules_energy_joules_total',
    'counter',
    'Energy of the recorded experiments (sum of energy_total_j) by suite.',
  );
  const energy = new Map<string, number>();
  for (const r of status.results) energy.set(r.suite ?? '', (energy.get(r.suite ?? '') ?? 0) + (r.energy_total_j ?? 0));
  for (const [suite, j] of [...energy].sort()) x.sample('joules_energy_joules_total', { suite }, j);

  x.family(
    'joules_experiment_duration_seconds',
    'histogram',
    'Wall time of done experiments (latest attempt, start to finish) by suite.',
  );
  for (const [suite, secs] of [...durations(entries)].sort()) {
    for (const le of DURATION_BUCKETS)
      x.sample(
        'joules_experiment_duration_seconds_bucket',
        { suite, le: String(le) },
        secs.filter((s) => s <= le).length,
      );
    x.sample('joules_experiment_duration_seconds_bucket', { suite, le: '+Inf' }, secs.length);
    x.sample(
      'joules_experiment_duration_seconds_sum',
      { suite },
      secs.reduce((a, b) => a + b, 0),
    );
    x.sample('joules_experiment_duration_seconds_count', { suite }, secs.length);
  }

  x.family('joules_failures_total', 'counter', 'Failed attempts (failed_experiments.csv rows) by failure kind.');
  const kinds = new Map<string, number>();
  for (const f of status.failures) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  for (const [kind, n] of [...kinds].sort()) x.sample('joules_failures_total', { kind }, n);

  x.family('joules_watch_clients', 'gauge', 'Dashboard pages connected by server-sent events.').sample(
    'joules_watch_clients',
    {},
    server.clients,
  );
  x.family(
    'joules_watch_dropped_clients_total',
    'counter',
    'Event-stream clients dropped for reading too slowly.',
  ).sample('joules_watch_dropped_clients_total', {}, server.dropped);
  return `${x.lines.join('\n')}\n`;
}
