export type { RunOptions } from './commands/run.js';
export { run } from './commands/run.js';
export { validate } from './commands/validate.js';
export { EXIT, ExitError } from './errors.js';
export { runMain } from './main.js';
export type { Output } from './output.js';
export { captureOutput, consoleOutput } from './output.js';
