import { type Distribution, distribution } from './numbers.js';
import type { BatchMeasurement } from './raw-measurement.js';

/** Per-batch timing statistics over every batch (`generate` call) of every rank. */
export interface BatchTimings {
  /** Batch latency (s): the `generate` call, traffic waits excluded. */
  latency: Distribution;
  /** Time to first token (s), over the batches that measured one. */
  ttft: Distribution;
  /**
   * Time per output token (s) = (latency − ttft) / (generated_steps − 1) per batch, over batches
   * with a ttft and at least two generated steps (the first step is the ttft).
   */
  time_per_output_token: Distribution;
}

export function batchTimings(batches: readonly BatchMeasurement[]): BatchTimings {
  const latency: number[] = [];
  const ttft: number[] = [];
  const tpot: number[] = [];
  for (const b of batches) {
    latency.push(b.latency_s);
    if (b.ttft_s === null) continue;
    ttft.push(b.ttft_s);
    if (b.generated_steps >= 2) tpot.push((b.latency_s - b.ttft_s) / (b.generated_steps - 1));
  }
  return { latency: distribution(latency), ttft: distribution(ttft), time_per_output_token: distribution(tpot) };
}
