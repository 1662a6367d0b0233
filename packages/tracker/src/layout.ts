import path from 'node:path';

/** Where everything lives in a results folder. */
export function resultsLayout(resultsDir: string) {
  const root = path.resolve(resultsDir);
  const stateDir = path.join(root, '.joules');
  return {
    root,
    rawDir: path.join(root, 'raw_results'),
    logsDir: path.join(root, 'logs'),
    stateDir,
    counterFile: path.join(stateDir, 'last_experiment_id'),
    /** The progress journal (JSONL, append-only, compacted now and then). */
    journalFile: path.join(stateDir, 'progress.jsonl'),
    /** Experiment folders are built here, then renamed into raw_results/ whole. */
    stagingDir: path.join(stateDir, 'staging'),
    /** One marker per experiment being written, removed once its CSV row is in: what resume must check. */
    pendingDir: path.join(stateDir, 'pending'),
    /** Folders found incomplete on resume are moved here (never deleted unless asked). */
    incompleteDir: path.join(stateDir, 'incomplete'),
    failuresCsv: path.join(root, 'failed_experiments.csv'),
    resultsCsv: (taskType: string) => path.join(root, `${taskType}_results.csv`),
    experimentDir: (id: string) => path.join(root, 'raw_results', id),
    pendingMarker: (id: string) => path.join(stateDir, 'pending', `${id}.json`),
    logFile: (id: string) => path.join(root, 'logs', `${id}.log`),
  };
}

export type ResultsLayout = ReturnType<typeof resultsLayout>;
