export type {
  Launcher,
  LaunchJob,
  LaunchOptions,
  LaunchOutcome,
  LaunchEvent,
  CommandLine,
  OutcomeKind,
  TimeoutKind,
} from './types.js';
export { AccelerateLauncher, PythonLauncher } from './accelerate-launcher.js';
export { WorkerLauncher } from './worker-launcher.js';
export { accelerateCommand, pythonCommand, formatCommandLine } from './command-lines.js';
export { loadLauncher, isLauncher } from './load-launcher.js';
export type { LoadLauncherOptions, LauncherFactory } from './load-launcher.js';
export { runWithRetry } from './run-with-retry.js';
export type { RetryResult, AttemptRecord, RetryOptions } from './run-with-retry.js';
export { runBatch } from './run-batch.js';
export type { BatchJob, BatchOptions, BatchResult } from './run-batch.js';
export { GpuPool, gpuNeed } from './gpu-pool.js';
export type { GpuNeed } from './gpu-pool.js';
export { DEFAULT_RETRY_POLICY, RETRY_RULES, decideRetry, backoffDelayMs, checkRetryPolicy } from './retry-policy.js';
export type { RetryPolicy, RetryDecision } from './retry-policy.js';
export type { JobEvent, SucceededOutcome, FailedOutcome, InterruptedOutcome } from './job-events.js';
export { dryRun, DRY_RUN_CONFIG_PATH, DRY_RUN_PORT } from './dry-run.js';
export type { DryRun } from './dry-run.js';
export { DEFAULT_KILL_GRACE_MS, forwardedSignal } from './run-process.js';
export { LAUNCH_MARKER, killRunningLaunches } from './process-tree.js';
export { WORKER_EXIT_CODES, readWorkerErrors } from './classify.js';
export {
  WorkerEventSchema,
  WorkerErrorFileSchema,
  FailureKindSchema,
  parseWorkerEventLine,
  workerEventJsonSchema,
} from './worker-events.js';
export type { WorkerEvent, WorkerErrorFile, FailureKind } from './worker-events.js';
export { freePort, reservePort } from './free-port.js';
export { LauncherError, LaunchSetupError, LauncherLoadError, LaunchOptionsError } from './errors.js';
export type { LauncherLoadErrorCode } from './errors.js';
export { SlurmLauncher, findSubmittedJob, slurmJobDir } from './slurm/slurm-launcher.js';
export type { SlurmLauncherOptions, SlurmLaunchOptions, SlurmStartedEvent, SubmitRecord } from './slurm/slurm-launcher.js';
export type { SlurmResources } from './slurm/resources.js';
export { querySlurmJob } from './slurm/job-state.js';
export type { SlurmJobInfo } from './slurm/job-state.js';
export { slurmStatus } from './slurm/sinfo.js';
export type { SlurmStatus, SlurmPartition, SlurmGpus } from './slurm/sinfo.js';
export { SlurmError } from './errors.js';
export type { SlurmErrorCode } from './errors.js';
export type { SlurmClient } from './slurm/slurm-cli.js';
export { startServer } from './server/start-server.js';
export type { StartServerOptions, ServerHandle, ServerExit } from './server/start-server.js';
export { serverArgv, serverEnv } from './server/server-argv.js';
export type { ServerPlaceholders } from './server/server-argv.js';
export { probeHealth, logTail, withLogTail } from './server/health.js';
export { ServerError } from './errors.js';
export type { ServerErrorCode } from './errors.js';
export { ServerLauncher, closeServers, serverKey, serverLogFile } from './server/server-launcher.js';
export type { ServerLauncherOptions } from './server/server-launcher.js';
export type { ServerOutcomeKind } from './types.js';
export { WorkerSession, loadSettings, loadSettingsKey, loadSettingsDiff, sessionSupport } from './session/index.js';
export type { SessionOutcome, WorkerSessionOptions } from './session/index.js';
export { SessionError } from './errors.js';
export type { SessionErrorCode } from './errors.js';
export { findServingEngines, SERVING_ENGINES } from './server/serving-engines.js';
export type { FoundEngine } from './server/serving-engines.js';
