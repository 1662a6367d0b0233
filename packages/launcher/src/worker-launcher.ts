import { mkdir } from 'node:fs/promises';
import { kindFromExitCode, rankFiles, readWorkerErrors } from './classify.js';
import { formatCommandLine } from './command-lines.js';
import { reservePort } from './free-port.js';
import type { CommandLine, Launcher, LaunchJob, LaunchOptions, LaunchOutcome } from './launcher.js';
import { withPrivateConfigFile } from './private-config-file.js';
import { type ProcessRun, runProcess } from './run-process.js';

/**
 * Shared launch logic for launchers that run one command per job: the private config file, a free
 * `--main_process_port`, the marked process tree (timeouts, signals), and the classification of the
 * result from the worker's files and exit code. Subclasses give `name` and `command` only.
 */
export abstract class WorkerLauncher implements Launcher {
  abstract readonly name: string;
  abstract command(job: LaunchJob, configPath: string, port: number): CommandLine;

  async launch(job: LaunchJob, options: LaunchOptions = {}): Promise<LaunchOutcome> {
    if (options.signal?.aborted)
      return { status: 'interrupted', message: 'interrupted before it started', durationMs: 0, command: [] };
    await mkdir(job.outputDir, { recursive: true });
    const lease = job.port === undefined ? await reservePort() : { port: job.port, release: () => {} };
    try {
      return await withPrivateConfigFile(job.experiment, async (configPath) => {
        const own = this.command(job, configPath, lease.port);
        const cmd = { ...own, env: { ...own.env, ...job.env } };
        // The header shows the launcher's own environment only: job.env may hold tokens.
        const header = `--- joules: ${job.id ?? job.experiment.config_name}, attempt ${job.attempt ?? 1}, ${new Date().toISOString()}: ${formatCommandLine(own)}`;
        const run = await runProcess(cmd, {
          logFile: job.logFile,
          header,
          ...(job.timeoutMs !== undefined && { timeoutMs: job.timeoutMs }),
          ...(job.silenceTimeoutMs !== undefined && { silenceTimeoutMs: job.silenceTimeoutMs }),
          ...(job.killGraceMs !== undefined && { killGraceMs: job.killGraceMs }),
          ...(options.signal && { signal: options.signal }),
          ...(options.onEvent && { onEvent: options.onEvent }),
        });
        return outcomeOf(run, job, [cmd.file, ...cmd.args]);
      });
    } finally {
      lease.release();
    }
  }
}

/** Classify a finished run: interrupted, timed out, succeeded, or failed with the most telling kind. */
async function outcomeOf(run: ProcessRun, job: LaunchJob, command: readonly string[]): Promise<LaunchOutcome> {
  const { durationMs, exitCode, signal } = run;
  if (run.aborted) return { status: 'interrupted', message: 'interrupted by the caller', durationMs, command };
  const errors = await readWorkerErrors(job.outputDir);
  const { files, missing } = await rankFiles(job.outputDir, job.experiment.num_processes);
  if (run.timedOut) {
    const message =
      run.timedOut === 'silence'
        ? `no output for ${job.silenceTimeoutMs} ms; process tree killed`
        : `timed out after ${job.timeoutMs} ms (wall clock); process tree killed`;
    return {
      status: 'failed',
      kind: 'timeout',
      timeout: run.timedOut,
      message,
      exitCode,
      signal,
      errors,
      durationMs,
      command,
    };
  }
  if (exitCode === 0 && missing.length === 0 && errors.length === 0) {
    return { status: 'succeeded', rankFiles: files, exitCode: 0, durationMs, command };
  }
  const first = errors[0];
  const kind = first?.kind ?? kindFromExitCode(exitCode) ?? (exitCode === 0 || signal ? 'crashed' : 'other');
  const message = first
    ? `rank ${first.rank}: ${first.message}`
    : exitCode === 0
      ? `worker exited 0 but wrote no result for rank(s) ${missing.join(', ')}`
      : `worker ${signal ? `killed by ${signal}` : `exited with code ${exitCode}`}; see ${job.logFile}`;
  return { status: 'failed', kind, message, exitCode, signal, errors, durationMs, command };
}
