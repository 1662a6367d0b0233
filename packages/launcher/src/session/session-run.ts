import { createWriteStream, type WriteStream } from 'node:fs';
import type { Experiment } from '@joules/config';
import { kindFromExitCode } from '../classify.js';
import type { LaunchJob, LaunchOptions, LaunchOutcome, TimeoutKind } from '../launcher.js';
import { withPrivateConfigFile } from '../private-config-file.js';
import type { WorkerErrorFile } from '../worker-events.js';
import type { SessionExit } from './session-process.js';

/** A launch outcome, plus whether this experiment ran on a model loaded before it. */
export type SessionOutcome = LaunchOutcome & {
  modelReused: boolean;
  /** Seconds this experiment spent loading the model (0 when reused); null when it failed. */
  modelLoadS: number | null;
};

/** One experiment in flight in a session. */
export interface Run {
  job: LaunchJob;
  index: number;
  started: number;
  onEvent: LaunchOptions['onEvent'];
  resolve: (o: SessionOutcome) => void;
  reject: (e: unknown) => void;
  timers: NodeJS.Timeout[];
  silence?: NodeJS.Timeout;
  timedOut?: TimeoutKind;
  aborted?: boolean;
  /** Set once resolved or rejected. */
  settled?: boolean;
  /** The check of an `experiment_done` under way (the process may exit meanwhile). */
  pending?: Promise<void>;
  /** Why the session tore the tree down itself, when no error file says more. */
  reason?: string;
}

/** How a run ended when the session's process exited during it: interrupted, timed out or failed. */
export function exitOutcome(
  run: Run,
  exit: SessionExit,
  errors: WorkerErrorFile[],
  command: readonly string[],
): SessionOutcome {
  const { exitCode, signal } = exit;
  const base = { durationMs: Date.now() - run.started, command, modelReused: run.index > 0, modelLoadS: null };
  if (run.aborted) return { status: 'interrupted', message: 'interrupted by the caller', ...base };
  if (run.timedOut) {
    const message =
      run.timedOut === 'silence'
        ? `no output for ${run.job.silenceTimeoutMs} ms; process tree killed`
        : `timed out after ${run.job.timeoutMs} ms (wall clock); process tree killed`;
    return { status: 'failed', kind: 'timeout', timeout: run.timedOut, message, exitCode, signal, errors, ...base };
  }
  const first = errors[0];
  const kind = first?.kind ?? kindFromExitCode(exitCode) ?? (exitCode === 0 || signal ? 'crashed' : 'other');
  const how = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
  const message = first
    ? `rank ${first.rank}: ${first.message}`
    : `${run.reason ?? `session worker ${how}`} during experiment ${run.index + 1}; see ${run.job.logFile}`;
  return { status: 'failed', kind, message, exitCode, signal, errors, ...base };
}

/** The log file of the experiment running now: each experiment's output goes to its own job's log. */
export class SessionLog {
  private stream: WriteStream | undefined;

  open(file: string): void {
    if (this.stream?.path === file) return;
    void this.end();
    this.stream = createWriteStream(file, { flags: 'a' });
  }

  header(job: LaunchJob, what: string): void {
    const who = job.id ?? job.experiment.config_name;
    this.stream?.write(`--- joules: ${who}, attempt ${job.attempt ?? 1}, ${new Date().toISOString()}: ${what}\n`);
  }

  write(chunk: string | Buffer): void {
    this.stream?.write(chunk);
  }

  end(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream ? stream.end(resolve) : resolve()));
  }
}

/** The experiment in a private config file (withPrivateConfigFile) held until `release()`. */
export function holdPrivateConfig(experiment: Experiment): Promise<{ file: string; release: () => void }> {
  return new Promise((resolve, reject) => {
    withPrivateConfigFile(experiment, (file) => new Promise<void>((release) => resolve({ file, release }))).catch(
      reject,
    );
  });
}
