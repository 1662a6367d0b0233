import { ratio } from '../numbers.js';
import type { ServingSummary } from './serving-schema.js';

/**
 * What a row says of the load's workload, its steady window, the server's own metrics and what its
 * energy covers (issue 22), from the worker's load summary. Files written before these fields read
 * as empty.
 */
export interface ServerFigures {
  /** Whether measured requests could repeat prompts (`load.prompt_reuse`). */
  serving_prompt_reuse: boolean | null;
  /** `distinct` (a prompt of its own each), `reuse` (cycled) or `shared_prefix` (`load.shared_prefix_tokens`). */
  serving_workload: string | null;
  /** Whether the steady window held (ML.ENERGY's ≥ 20 s and ≥ 0.85 × the batch, enough requests, no growing queue). */
  serving_steady_ok: boolean | null;
  serving_steady_ok_reason: string | null;
  /** The server's mean running requests over the steady window (its Prometheus metrics). */
  serving_server_running_mean: number | null;
  /** Its mean KV-cache use over the steady window (a fraction). */
  serving_server_kv_cache_usage_mean: number | null;
  /** Prefix-cache hit and query tokens over the load, and their ratio. */
  serving_server_prefix_cache_hits: number | null;
  serving_server_prefix_cache_queries: number | null;
  serving_server_prefix_cache_hit_rate: number | null;
  /** The server's own mean time to first token over the load (its histogram), beside the client's. */
  serving_server_ttft_mean_s: number | null;
  /** Whether the server's metrics were read (false: it has none at `server.metrics_url`). */
  serving_server_metrics: boolean | null;
  /** CPU time of the worker (the load generator) over the energy window (s). */
  serving_client_cpu_s: number | null;
  /** The steady window's joules prorated by time (a backend that cannot read mid-span): an estimate. */
  serving_steady_energy_prorated_j: number | null;
  /**
   * What the serving energy columns (per token, per request, per 1k queries) cover: `server_devices`
   * (the server's GPUs only) or `host` (the whole host: its CPU and RAM, the load generator's CPU in
   * them — see serving_client_cpu_s).
   */
  serving_energy_scope: string | null;
}

/** The steady window's joules as (measured, prorated), older files included (prorated in energy_steady_j). */
export function steadyJoules(s: ServingSummary): { measured: number | null; prorated: number | null } {
  const prorated = s.steady_energy_method === 'prorated_by_time';
  return {
    measured: prorated ? null : s.energy_steady_j,
    prorated: s.energy_steady_prorated_j ?? (prorated ? s.energy_steady_j : null),
  };
}

export function serverFigures(s: ServingSummary): ServerFigures {
  const m = s.server_metrics;
  return {
    serving_prompt_reuse: s.prompt_reuse,
    serving_workload: s.workload,
    serving_steady_ok: s.steady_ok,
    serving_steady_ok_reason: s.steady_ok_reason,
    serving_server_running_mean: m?.running_mean ?? null,
    serving_server_kv_cache_usage_mean: m?.kv_cache_usage_mean ?? null,
    serving_server_prefix_cache_hits: m?.prefix_cache_hits ?? null,
    serving_server_prefix_cache_queries: m?.prefix_cache_queries ?? null,
    serving_server_prefix_cache_hit_rate: m ? ratio(m.prefix_cache_hits, m.prefix_cache_queries) : null,
    serving_server_ttft_mean_s: m?.ttft_mean_s ?? null,
    serving_server_metrics: m?.read ?? null,
    serving_client_cpu_s: s.client_cpu_s,
    serving_steady_energy_prorated_j: steadyJoules(s).prorated,
    serving_energy_scope: s.energy_scope,
  };
}
