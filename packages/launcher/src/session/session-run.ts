import { createWriteStream, type WriteStream } from 'node:fs';
import { kindFromExitCode, rankFiles, readWorkerErrors } from '../classify.js';
import type { LaunchJob, LaunchOptions, LaunchOutcome, TimeoutKind } from '../launcher.js';
import type { WorkerErrorFile, WorkerEvent } from '../worker-events.js';
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

/** Start the run's wall-clock and silence timers; when one fires, `expire` tears the tree down. */
export function armTimers(run: Run, expire: () => void): void {
  const fire = (kind: TimeoutKind) => () => {
    run.timedOut ??= kind;
    expire();
  };
  if (run.job.timeoutMs) run.timers.push(setTimeout(fire('wall-clock'), run.job.timeoutMs));
  if (run.job.silenceTimeoutMs) {
    run.silence = setTimeout(fire('silence'), run.job.silenceTimeoutMs);
    run.timers.push(run.silence);
  }
}

/**
 * What the worker's `experiment_done` for the run means: succeeded when every rank's result is
 * there and no rank wrote an error, else the reason it did not (the session tears the tree down).
 */
export async function doneOutcome(
  run: Run,
  done: Extract<WorkerEvent, { event: 'experiment_done' }>,
  command: readonly string[],
): Promise<SessionOutcome | string> {
  const { job } = run;
  const errors = await readWorkerErrors(job.outputDir);
  const { files, missing } = await rankFiles(job.outputDir, job.experiment.num_processes);
  if (errors.length || missing.length) {
    return `experiment_done without every rank's result (missing: ${missing.join(', ') || 'none'})`;
  }
  return {
    status: 'succeeded',
    rankFiles: files,
    exitCode: 0,
    durationMs: Date.now() - run.started,
    command,
    modelReused: done.model_reused,
    modelLoadS: done.model_load_s,
  };
}

/**
 * The outcome of an experiment never sent to the worker: `failed` (crashed) when the session had
 * died before it, `interrupted` when the caller aborted first.
 */
export function unsentOutcome(o: {
  status: 'failed' | 'interrupted';
  message: string;
  command: readonly string[];
  modelReused: boolean;
}): SessionOutcome {
  const { message, command, modelReused } = o;
  if (o.status === 'interrupted') {
    return { status: 'interrupted', message, durationMs: 0, command, modelReused, modelLoadS: null };
  }
  const none = { exitCode: null, signal: null, errors: [], durationMs: 0 };
  return { status: 'failed', kind: 'crashed', message, ...none, modelReused, modelLoadS: null, command };
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
