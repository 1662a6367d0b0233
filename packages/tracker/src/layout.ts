import path from 'node:path';

/** Where everything lives in a results folder. */
export function resultsLayout(resultsDir: string) {
  const root = path.resolve(resultsDir);
  return {
    root,
    rawDir: path.join(root, 'raw_results'),
    logsDir: path.join(root, 'logs'),
    stateDir: path.join(root, '.joules'),
    counterFile: path.join(root, '.joules', 'last_experiment_id'),
    failuresCsv: path.join(root, 'failed_experiments.csv'),
    resultsCsv: (taskType: string) => path.join(root, `${taskType}_results.csv`),
    experimentDir: (id: string) => path.join(root, 'raw_results', id),
    logFile: (id: string) => path.join(root, 'logs', `${id}.log`),
  };
}

export type ResultsLayout = ReturnType<typeof resultsLayout>;
