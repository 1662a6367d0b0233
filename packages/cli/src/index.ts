export { runMain } from './main.js';
export { run } from './commands/run.js';
export type { RunOptions } from './commands/run.js';
export { validate } from './commands/validate.js';
export { runExperiment } from './run-experiment.js';
export type { ExperimentResult } from './run-experiment.js';
export { EXIT, ExitError } from './errors.js';
export { consoleOutput, captureOutput } from './output.js';
export type { Output } from './output.js';
