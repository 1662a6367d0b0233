import type { RawMeasurement } from '@joules/metrics';

/**
 * Records the worker keeps in a rank's free-form `environment` (no schema of their own):
 * `generation`, the decoding generate really ran with (the model's generation_config merged with
 * the experiment's decoding, every token-changing default neutralised, and which of the model's
 * defaults were overridden); `dataset.rows_skipped`, the prompt-file rows that held no prompt.
 * Every rank runs the same config, so rank 0's records stand for the experiment.
 */
type Json = RawMeasurement['environment'][string];

const isRecord = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The effective generation config, or null when the worker did not record one (engines, older workers). */
export function effectiveGenerationConfig(rank: RawMeasurement): { [key: string]: Json } | null {
  const generation = rank.environment['generation'];
  return isRecord(generation) ? generation : null;
}

/** `{ count, lines, reason }` of the prompt-file rows skipped for having no prompt column, or null (hub datasets, older workers). */
export function datasetRowsSkipped(rank: RawMeasurement): { [key: string]: Json } | null {
  const dataset = rank.environment['dataset'];
  const skipped = isRecord(dataset) ? dataset['rows_skipped'] : undefined;
  return isRecord(skipped) ? skipped : null;
}
