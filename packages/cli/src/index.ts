export { runMain } from './main.js';
export { run } from './commands/run.js';
export type { RunOptions } from './commands/run.js';
export { validate } from './commands/validate.js';
export { EXIT, ExitError } from './errors.js';
export { consoleOutput, captureOutput } from './output.js';
export type { Output } from './output.js';
