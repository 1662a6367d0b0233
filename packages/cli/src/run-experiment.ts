import { readFile, rm } from 'node:fs/promises';
import { configHash, type Experiment } from '@joules/config';
import type { LaunchEvent, Launcher, LaunchOutcome } from '@joules/launcher';
import { aggregateRanks, deriveMetrics, RawMeasurementSchema, type ExperimentMetrics, type RawMeasurement } from '@joules/metrics';
import { allocateExperimentId, recordExperiment, recordFailure, resultsLayout, type RecordedExperiment } from '@joules/tracker';

export interface ExperimentResult {
  experimentId: string;
  outcome: LaunchOutcome;
  logFile: string;
  recorded?: RecordedExperiment;
  metrics?: ExperimentMetrics;
  failureLog?: string;
}

/** Read and check each rank's raw measurement against the contract. */
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
 * One experiment end to end: allocate its id, launch the worker, check and aggregate what the
 * ranks measured, derive the metrics, record files and the CSV row — or the failure.
 */
export async function runExperiment(options: {
  experiment: Experiment;
  resultsDir: string;
  launcher: Launcher;
  signal?: AbortSignal;
  onEvent?: (event: LaunchEvent, experimentId: string) => void;
}): Promise<ExperimentResult> {
  const { experiment, resultsDir, launcher } = options;
  const layout = resultsLayout(resultsDir);
  const experimentId = await allocateExperimentId(resultsDir);
  const logFile = layout.logFile(experimentId);
  const workDir = `${layout.stateDir}/work/${experimentId}`;
  const startedAt = new Date().toISOString();
  const outcome = await launcher.launch(
    { experiment, outputDir: workDir, logFile },
    {
      ...(options.signal && { signal: options.signal }),
      onEvent: (event) => options.onEvent?.(event, experimentId),
    },
  );
  if (outcome.status === 'interrupted') return { experimentId, outcome, logFile };
  const hash = configHash(experiment);
  if (outcome.status === 'failed') {
    const failureLog = await recordFailure(resultsDir, {
      experimentId,
      configName: experiment.config_name,
      modelName: experiment.model_name,
      attempt: 1,
      kind: outcome.kind,
      message: outcome.message,
      config: experiment,
    });
    return { experimentId, outcome, logFile, failureLog };
  }
  const ranks = await readRanks(outcome.rankFiles);
  const totals = aggregateRanks(ranks);
  const metrics = deriveMetrics(totals);
  const recorded = await recordExperiment(resultsDir, {
    experimentId,
    experiment,
    configHash: hash,
    launcher: launcher.name,
    startedAt,
    finishedAt: new Date().toISOString(),
    ranks,
    totals,
    metrics,
  });
  await rm(workDir, { recursive: true, force: true });
  return { experimentId, outcome, logFile, recorded, metrics };
}
