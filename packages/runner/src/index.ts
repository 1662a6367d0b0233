export { runExperiment } from './run-experiment.js';
export type { RunExperimentOptions } from './run-experiment.js';
export { runSuite } from './run-suite.js';
export type { RunSuiteOptions } from './run-suite.js';
export type { ExperimentOutcome, SuiteOutcome, SuiteExperimentOutcome } from './outcomes.js';
export type { RunnerEvent, RunnerEventType, EventSink } from './events.js';
export { effectiveLauncher, launchJob, recordSuccess, retryPolicy } from './experiment-jobs.js';
export { resolveWorkerEnv, checkoutRoot } from './worker-env.js';
export type { WorkerEnv } from './worker-env.js';
export { RunnerError, RunConfigError, RunOptionsError, WorkerEnvError } from './errors.js';
/** Second Ctrl-C: SIGKILL every worker process tree this process started (suites, sessions, runs). */
export { killRunningLaunches as killRunningWorkers } from '@joules/launcher';
