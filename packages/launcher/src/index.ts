export { AccelerateLauncher } from './accelerate-launcher.js';
export { readWorkerErrors, WORKER_EXIT_CODES } from './classify.js';
export { accelerateCommand, formatCommandLine, pythonCommand } from './command-lines.js';
export type { DryRun } from './dry-run.js';
export { DRY_RUN_CONFIG_PATH, DRY_RUN_PORT, dryRun } from './dry-run.js';
export type { LauncherLoadErrorCode, ServerErrorCode, SessionErrorCode, SlurmErrorCode } from './errors.js';
export {
  LauncherError,
  LauncherLoadError,
  LaunchOptionsError,
  LaunchSetupError,
  ServerError,
  SessionError,
  SlurmError,
} from './errors.js';
export { freePort, reservePort } from './free-port.js';
export type { GpuControlLauncherOptions, GpuControlRecord } from './gpu-control/gpu-control-launcher.js';
export { GPU_CONTROL_FILE, GpuControlLauncher, gpuRestoreDir } from './gpu-control/gpu-control-launcher.js';
export type { GpuGuardOptions, GpuGuardStart, GpuGuardStop, GpuReading } from './gpu-control/gpu-guard.js';
export { startGpuGuard } from './gpu-control/gpu-guard.js';
export type { GpuNeed } from './gpu-pool.js';
export { GpuPool, gpuNeed } from './gpu-pool.js';
export type { FailedOutcome, InterruptedOutcome, JobEvent, SucceededOutcome } from './job-events.js';
export type {
  CommandLine,
  LaunchEvent,
  Launcher,
  LaunchJob,
  LaunchOptions,
  LaunchOutcome,
  OutcomeKind,
  ServerOutcomeKind,
  TimeoutKind,
} from './launcher.js';
export type { LauncherFactory, LoadLauncherOptions } from './load-launcher.js';
export { isLauncher, loadLauncher } from './load-launcher.js';
export { killRunningLaunches, LAUNCH_MARKER } from './process-tree.js';
export { PythonLauncher } from './python-launcher.js';
export type { RetryDecision, RetryPolicy } from './retry-policy.js';
export { backoffDelayMs, checkRetryPolicy, DEFAULT_RETRY_POLICY, decideRetry, RETRY_RULES } from './retry-policy.js';
export type { BatchJob, BatchOptions, BatchResult } from './run-batch.js';
export { runBatch } from './run-batch.js';
export { DEFAULT_KILL_GRACE_MS, forwardedSignal } from './run-process.js';
export type { AttemptRecord, RetryOptions, RetryResult } from './run-with-retry.js';
export { runWithRetry } from './run-with-retry.js';
export { logTail, probeHealth, withLogTail } from './server/health.js';
export type { ServerPlaceholders } from './server/server-argv.js';
export { serverArgv, serverEnv } from './server/server-argv.js';
export type { ServerLauncherOptions } from './server/server-launcher.js';
export { closeServers, ServerLauncher, serverKey, serverLogFile } from './server/server-launcher.js';
export type { FoundEngine } from './server/serving-engines.js';
export { findServingEngines, SERVING_ENGINES } from './server/serving-engines.js';
export type { ServerExit, ServerHandle, StartServerOptions } from './server/start-server.js';
export { startServer } from './server/start-server.js';
export type { SessionOutcome, WorkerSessionOptions } from './session/index.js';
export { loadSettings, loadSettingsDiff, loadSettingsKey, sessionSupport, WorkerSession } from './session/index.js';
export type { SubmitRecord } from './slurm/job-files.js';
export { findSubmittedJob, slurmJobDir } from './slurm/job-files.js';
export type { SlurmJobInfo } from './slurm/job-state.js';
export { querySlurmJob } from './slurm/job-state.js';
export type { SlurmResources } from './slurm/resources.js';
export type { SlurmGpus, SlurmPartition, SlurmStatus } from './slurm/sinfo.js';
export { slurmStatus } from './slurm/sinfo.js';
export type { SlurmClient } from './slurm/slurm-cli.js';
export type {
  SlurmLauncherOptions,
  SlurmLaunchOptions,
  SlurmStartedEvent,
} from './slurm/slurm-launcher.js';
export { SlurmLauncher } from './slurm/slurm-launcher.js';
export type { FailureKind, WorkerErrorFile, WorkerEvent } from './worker-events.js';
export {
  FailureKindSchema,
  parseWorkerEventLine,
  WorkerErrorFileSchema,
  WorkerEventSchema,
  workerEventJsonSchema,
} from './worker-events.js';
export { WorkerLauncher } from './worker-launcher.js';
