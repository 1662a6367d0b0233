import { appendFile, writeFile } from 'node:fs/promises';
import { RESULT_COLUMNS, type ResultRecord } from '@joules/metrics';
import { csvLine, resultsLayout } from '@joules/tracker';

/**
 * A serving sweep as `joules suite` writes it (shared by the report's and the watch's serving
 * tests): server settings (max_num_seqs) × closed-loop concurrency × cycles, engine "server",
 * batch_size 8 in every row (a setting the server never used). Throughput grows with load until the
 * server's batch is full, then falls a little; TTFT queues past it; J per request falls with load,
 * then rises; the goodput share falls once TTFT passes GOODPUT_TTFT_S. Each cycle wobbles the
 * figures by a few percent.
 */
export const SETTINGS = [4, 16];
export const LOADS = [1, 2, 4, 8, 16, 32];
export const CYCLES = [1, 2, 3];
const WOBBLE = [-0.03, 0.01, 0.025];
/** The SLO's TTFT: the goodput share is min(1, this / p90 TTFT), so the busiest points miss it. */
export const GOODPUT_TTFT_S = 0.12;

export const servingConfig = (seqs: number, c: number) => `server.max_num_seqs-${seqs}__load.concurrency-${c}`;

export function servingRow(i: number, seqs: number, c: number, cycle: number): ResultRecord {
  const r = Object.fromEntries(RESULT_COLUMNS.map((k) => [k, null])) as ResultRecord;
  const busy = Math.min(c, seqs);
  const wobble = 1 + (WOBBLE[(cycle - 1) % WOBBLE.length] ?? 0) * (1 + (c % 3) / 4);
  const tps = 38 * busy * (1 - 0.015 * Math.max(0, c - seqs)) * wobble;
  const ttft = (0.04 + 0.006 * busy + 0.09 * Math.max(0, c / seqs - 1)) * wobble;
  const tpot = (0.02 + 0.0015 * busy) * wobble;
  const perRequest = (55 / busy + 4 + 0.4 * Math.max(0, c - seqs)) * (2 - wobble);
  return {
    ...r,
    experiment_id: String(i).padStart(6, '0'),
    config_name: servingConfig(seqs, c),
    model_name: 'org/tiny-llama',
    suite: 'serving-sweep',
    cycle_id: cycle,
    task_type: 'text_generation',
    num_processes: 1,
    batch_size: 8,
    precision: 'bf16',
    engine: 'server',
    load_pattern: 'closed_loop',
    load_concurrency: c,
    throughput_tokens_per_s: tps,
    energy_per_token_j: perRequest / 16,
    energy_total_j: perRequest * 64,
    latency_mean_s: ttft + 16 * tpot,
    serving_requests: 64,
    serving_errors: 0,
    serving_output_tokens_per_s: tps,
    serving_requests_per_s: tps / 16,
    serving_ttft_p90_s: ttft,
    serving_tpot_p90_s: tpot,
    serving_energy_per_request_j: perRequest,
    serving_goodput_share: Math.min(1, GOODPUT_TTFT_S / ttft),
    energy_backend: 'codecarbon',
    energy_estimated: true,
    config_hash: `h-${seqs}-${c}`,
  };
}

/** Every row of the sweep (settings × loads × cycles). */
export function servingRows(cycles: readonly number[] = CYCLES): ResultRecord[] {
  const rows: ResultRecord[] = [];
  for (const seqs of SETTINGS)
    for (const c of LOADS) for (const cycle of cycles) rows.push(servingRow(rows.length + 1, seqs, c, cycle));
  return rows;
}

/** Write `rows` as the results CSV of `dir` (with its header), or append them. */
export async function writeServingRows(dir: string, rows: readonly ResultRecord[], append = false): Promise<void> {
  const lines = rows.map((r) => csvLine(RESULT_COLUMNS.map((c) => r[c]))).join('');
  const file = resultsLayout(dir).resultsCsv('text_generation');
  if (append) await appendFile(file, lines);
  else await writeFile(file, csvLine(RESULT_COLUMNS) + lines);
}
