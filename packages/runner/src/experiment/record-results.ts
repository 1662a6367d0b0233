import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configHash, type Experiment, effectiveConfigHash } from '@joules/config';
import type { JobEvent, RetryResult } from '@joules/launcher';
import {
  aggregateRanks,
  deriveMetrics,
  type ExperimentMetrics,
  type RawMeasurement,
  RawMeasurementSchema,
} from '@joules/metrics';
import { type RecordedExperiment, recordExperiment, recordFailure } from '@joules/tracker';
import { gpuColumnsOf } from './gpu-columns-of.js';
import { effectiveLauncher } from './launch-job.js';
import { servingColumnsOf } from './serving-columns-of.js';

async function readRanks(files: readonly string[]): Promise<RawMeasurement[]> {
  const ranks: RawMeasurement[] = [];
  for (const file of files) {
    const parsed = RawMeasurementSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`${file}: not a valid raw measurement (${first?.path.join('.')}: ${first?.message})`);
    }
    ranks.push(parsed.data);
  }
  return ranks;
}

/**
 * Record a successful run: the ranks' raw measurements checked against the contract, aggregated
 * (each device once), derived, written. `planned` is the experiment as configured (its hash is
 * the one resume compares); the files describe what really ran (`result.experiment`, e.g. with a
 * batch size halved after an OOM).
 */
export async function recordSuccess(
  resultsDir: string,
  experimentId: string,
  planned: Experiment,
  result: RetryResult,
  startedAt: string,
  /** `energyHostShared`: a host-level reader ran beside other jobs (see energyHostShared in @joules/config). */
  extra: { energyHostShared?: boolean } = {},
): Promise<{ recorded: RecordedExperiment; metrics: ExperimentMetrics }> {
  if (result.outcome.status !== 'succeeded') throw new Error('recordSuccess: the outcome is not a success');
  const ran = result.experiment;
  const ranks = await readRanks(result.outcome.rankFiles);
  const totals = aggregateRanks(ranks);
  const derived = deriveMetrics(totals, {
    pue: ran.energy.pue,
    carbon_intensity_g_per_kwh: ran.energy.carbon_intensity_g_per_kwh,
  });
  // Engine "server": its serving columns join the row (they stay empty for transformers rows).
  const serving = await servingColumnsOf(path.dirname(result.outcome.rankFiles[0]!), ran);
  // gpu.*: the enforced values the GPU guard read back (empty columns when not set).
  const gpu = await gpuColumnsOf(path.dirname(result.outcome.rankFiles[0]!), ran);
  const metrics: ExperimentMetrics = serving || gpu ? Object.assign({}, derived, serving, gpu) : derived;
  const recorded = await recordExperiment(resultsDir, {
    experimentId,
    experiment: ran,
    configHash: configHash(planned),
    effectiveConfigHash: effectiveConfigHash(planned, ran),
    ...(extra.energyHostShared !== undefined && { energyHostShared: extra.energyHostShared }),
    // The worker's side files (timeseries, token ids) lie beside its rank files: they are copied too.
    workDir: path.dirname(result.outcome.rankFiles[0]!),
    launcher: effectiveLauncher(ran),
    startedAt,
    finishedAt: new Date().toISOString(),
    ranks,
    totals,
    metrics,
  });
  return { recorded, metrics };
}

/** Every failed attempt goes to failed_experiments.csv; `final` marks the one that ended it. */
export function failureRecorder(resultsDir: string, experimentIdOf: (jobId: string) => string | undefined) {
  return async (event: JobEvent): Promise<void> => {
    if (event.type !== 'attempt-failed') return;
    await recordFailure(resultsDir, {
      experimentId: experimentIdOf(event.jobId) ?? '',
      configName: event.experiment.config_name,
      modelName: event.experiment.model_name,
      attempt: event.attempt,
      kind: event.kind,
      message: event.message,
      config: event.experiment,
      final: !event.willRetry,
    });
  };
}
