import type { Experiment } from '@joules/config';
import type { ExperimentMetrics, ProcessTotals, RawMeasurement } from '@joules/metrics';
import { SIDE_FILE_NAMES } from './raw/side-files.js';
import { datasetRowsSkipped, effectiveGenerationConfig } from './worker-records.js';

export interface ExperimentRun {
  experimentId: string;
  experiment: Experiment;
  /** Hash of the experiment as planned (the key resume compares). */
  configHash: string;
  /** Hash of what really ran (e.g. the batch size after OOM halving); default configHash. */
  effectiveConfigHash?: string;
  /** A host-level energy reader shared the host with other jobs (`energy.allow_shared_host`); default false. */
  energyHostShared?: boolean;
  launcher: string;
  /**
   * The worker's folder holding `rank-<r>.json` and its side files (timeseries, token ids): they
   * are copied into the results folder. Required when a rank names a timeseries file or the
   * experiment saves token ids.
   */
  workDir?: string;
  /** ISO timestamps of the launch. */
  startedAt: string;
  finishedAt: string;
  ranks: readonly RawMeasurement[];
  totals: ProcessTotals;
  metrics: ExperimentMetrics;
}

/** File name suffix → JSON document, the seed's eight files (the 8th only when outputs are saved). */
export function resultDocuments(run: ExperimentRun): Record<string, unknown> {
  const { experiment: e, metrics: m, totals: t, experimentId: id } = run;
  const ranks = [...run.ranks].sort((a, b) => a.rank - b.rank);
  const rank0 = ranks[0]!;
  const docs: Record<string, unknown> = {
    '1_experiment_setup': {
      experiment_id: id,
      config_name: e.config_name,
      model_name: e.model_name,
      task_type: e.task_type,
      suite: e.suite,
      cycle_id: e.cycle_id,
      config_hash: run.configHash,
      effective_config_hash: run.effectiveConfigHash ?? run.configHash,
      energy_host_shared: run.energyHostShared ?? false,
      launcher: run.launcher,
      num_processes: e.num_processes,
      world_size: t.world_size,
      gpu_ids: e.gpu_ids,
      devices: ranks.map((r) => ({ rank: r.rank, host: r.host, ...r.device })),
      precision: e.precision,
      energy_backend: e.energy.backend,
      started_at: run.startedAt,
      finished_at: run.finishedAt,
      environment: rank0.environment,
      config: e,
    },
    '2_experiment_variables': {
      experiment_id: id,
      dataset: e.dataset,
      dataset_rows_skipped: datasetRowsSkipped(rank0),
      num_input_prompts: e.num_input_prompts,
      max_input_tokens: e.max_input_tokens,
      max_output_tokens: e.max_output_tokens,
      min_output_tokens: e.min_output_tokens,
      batch_size: e.batch_size,
      decoding: e.decoding,
      effective_generation_config: effectiveGenerationConfig(rank0),
      warmup_iterations: e.warmup_iterations,
      seed: e.seed,
      num_processes: e.num_processes,
      precision: e.precision,
    },
    '3_model_architecture': { experiment_id: id, ...rank0.model },
    '4_inference_metrics': {
      experiment_id: id,
      num_prompts: m.num_prompts,
      total_input_tokens: m.total_input_tokens,
      total_output_tokens: m.total_output_tokens,
      total_time_s: m.total_time_s,
      throughput_tokens_per_s: m.throughput_tokens_per_s,
      throughput_queries_per_s: m.throughput_queries_per_s,
      latency_s: {
        mean: m.latency_mean_s,
        p50: m.latency_p50_s,
        p90: m.latency_p90_s,
        p99: m.latency_p99_s,
        min: m.latency_min_s,
        max: m.latency_max_s,
        unit: 'seconds per batch',
      },
      per_rank: ranks.map((r) => ({ rank: r.rank, window: r.window, tokens: r.tokens, batches: r.batches })),
    },
    '5_compute_metrics': {
      experiment_id: id,
      flops: {
        prefill: m.flops_prefill,
        decode: m.flops_decode,
        total: m.flops_total,
        per_output_token: m.flops_per_token,
        method: [...new Set(ranks.map((r) => r.flops.method))].join('+'),
      },
      memory: {
        peak_bytes_total: m.peak_memory_bytes,
        peak_bytes_by_device: t.peak_memory_by_device,
        per_rank: ranks.map((r) => ({ rank: r.rank, ...r.memory })),
      },
    },
    '7_global_energy_results': {
      experiment_id: id,
      backend: m.energy_backend,
      estimated: m.energy_estimated,
      counted_readings: t.energy_counted_readings,
      device_readings: t.energy_readings,
      energy_total_j: m.energy_total_j,
      // false: a device could not be read, so no total (null, never 0 J); which and why:
      energy_complete: m.energy_complete,
      missing_readings: t.energy_missing,
      energy_total_kwh: m.energy_total_kwh,
      energy_by_scope_j: { gpu: m.energy_gpu_j, cpu: m.energy_cpu_j, ram: m.energy_ram_j },
      energy_adjusted_j: m.energy_adjusted_j,
      energy_mean_per_process_j: m.energy_mean_per_process_j,
      energy_per_token_j: m.energy_per_token_j,
      tokens_per_j: m.tokens_per_j,
      flops_per_j: m.flops_per_j,
      queries_per_kwh: m.queries_per_kwh,
      wh_per_1k_queries: m.wh_per_1k_queries,
      carbon_intensity_g_per_kwh: m.carbon_intensity_g_per_kwh,
      emissions_kg: m.emissions_kg,
      notes: [...new Set(ranks.map((r) => r.energy.note).filter((n): n is string => n !== null))],
    },
  };
  // The untouched per-rank measurements, so every figure above can be recomputed later.
  for (const r of ranks) docs[`raw_rank_${r.rank}`] = r;
  for (const r of ranks) {
    docs[`6_local_energy_results_process_${r.rank}`] = {
      experiment_id: id,
      rank: r.rank,
      host: r.host,
      device: r.device,
      ...r.energy,
      // The samples' file in this folder (raw_rank_<r> keeps the worker's own name).
      timeseries_file: r.energy.timeseries_file === null ? null : `${id}_${SIDE_FILE_NAMES.timeseries(r.rank)}`,
    };
  }
  if (e.save_outputs) {
    docs['8_text_output'] = {
      experiment_id: id,
      outputs: ranks.flatMap((r) =>
        r.outputs
          ? r.outputs.texts.map((text, i) => ({ rank: r.rank, prompt: r.outputs!.prompts[i] ?? null, text }))
          : [],
      ),
    };
  }
  return docs;
}
