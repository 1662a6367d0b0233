export type { Launcher, LaunchJob, LaunchOptions, LaunchOutcome, LaunchEvent, CommandLine, OutcomeKind } from './types.js';
export { AccelerateLauncher, PythonLauncher } from './accelerate-launcher.js';
export { WorkerLauncher } from './worker-launcher.js';
export { accelerateCommand, pythonCommand } from './command-lines.js';
export { WORKER_EXIT_CODES, readWorkerErrors } from './classify.js';
export {
  WorkerEventSchema,
  WorkerErrorFileSchema,
  FailureKindSchema,
  parseWorkerEventLine,
  workerEventJsonSchema,
} from './worker-events.js';
export type { WorkerEvent, WorkerErrorFile, FailureKind } from './worker-events.js';
export { freePort } from './free-port.js';
export { LauncherError, LaunchSetupError } from './errors.js';
