import { mkdir } from 'node:fs/promises';
import { readWorkerErrors, kindFromExitCode, rankFiles } from './classify.js';
import { freePort } from './free-port.js';
import { withPrivateConfigFile } from './private-config-file.js';
import { runProcess } from './run-process.js';
import type { CommandLine, LaunchJob, LaunchOptions, LaunchOutcome, Launcher } from './types.js';

/** Shared launch logic: private config file, process group, classification from files and codes. */
export abstract class WorkerLauncher implements Launcher {
  abstract readonly name: string;
  abstract command(job: LaunchJob, configPath: string, port: number): CommandLine;

  async launch(job: LaunchJob, options: LaunchOptions = {}): Promise<LaunchOutcome> {
    await mkdir(job.outputDir, { recursive: true });
    const port = await freePort();
    return withPrivateConfigFile(job.experiment, async (configPath) => {
      const cmd = this.command(job, configPath, port);
      cmd.env = { ...cmd.env, ...job.env };
      const command = [cmd.file, ...cmd.args];
      const run = await runProcess(cmd, {
        logFile: job.logFile,
        ...(job.timeoutMs !== undefined && { timeoutMs: job.timeoutMs }),
        ...(options.signal && { signal: options.signal }),
        ...(options.onEvent && { onEvent: options.onEvent }),
      });
      const { durationMs, exitCode, signal } = run;
      if (run.aborted) return { status: 'interrupted', message: 'interrupted by the caller', durationMs, command };
      const errors = await readWorkerErrors(job.outputDir);
      const { files, missing } = await rankFiles(job.outputDir, job.experiment.num_processes);
      if (run.timedOut) {
        const message = `timed out after ${job.timeoutMs} ms; process tree killed`;
        return { status: 'failed', kind: 'timeout', message, exitCode, signal, errors, durationMs, command };
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
    });
  }
}
