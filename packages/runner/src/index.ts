/** Second Ctrl-C: SIGKILL every worker process tree this process started (suites, sessions, runs). */
export { killRunningLaunches as killRunningWorkers } from '@joules/launcher';
export { RunConfigError, RunnerError, RunOptionsError, WorkerEnvError } from './errors.js';
export type { EventSink, RunnerEvent, RunnerEventType } from './events.js';
export { effectiveLauncher, launchJob, retryPolicy } from './experiment/launch-job.js';
export { recordSuccess } from './experiment/record-results.js';
export type { ExperimentOutcome, SuiteExperimentOutcome, SuiteOutcome, SuiteTally } from './outcomes.js';
export type { RunExperimentOptions } from './run-experiment.js';
export { runExperiment } from './run-experiment.js';
export { SEARCH_RESULT_FILE } from './search/run-search.js';
export type { MeasuredPoint, SearchResult } from './search/search-outcome.js';
export { type SearchProgress, searchProgress, searchSignature } from './search/search-progress.js';
export type { PrunedPoint } from './search/search-space.js';
export type { RunSuiteOptions } from './suite/run-suite.js';
export { runSuite } from './suite/run-suite.js';
export type { WorkerEnv } from './worker-env.js';
export { checkoutRoot, resolveWorkerEnv } from './worker-env.js';
