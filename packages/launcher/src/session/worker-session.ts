import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import { kindFromExitCode, rankFiles, readWorkerErrors } from '../classify.js';
import { formatCommandLine } from '../command-lines.js';
import { SessionError } from '../errors.js';
import { reservePort } from '../free-port.js';
import { withPrivateConfigFile } from '../private-config-file.js';
import { DEFAULT_KILL_GRACE_MS, forwardedSignal } from '../run-process.js';
import type { LaunchJob, LaunchOptions, LaunchOutcome, Launcher, TimeoutKind } from '../types.js';
import { parseWorkerEventLine, type WorkerEvent } from '../worker-events.js';
import { loadSettingsDiff, loadSettingsKey, sessionSupport } from './load-settings.js';
import { SessionProcess, type SessionExit } from './session-process.js';

/** A launch outcome, plus whether this experiment ran on a model loaded before it. */
export type SessionOutcome = LaunchOutcome & {
  modelReused: boolean;
  /** Seconds this experiment spent loading the model (0 when reused); null when it failed. */
  modelLoadS: number | null;
};

export interface WorkerSessionOptions {
  /** Time between the polite signal and SIGKILL when the session is torn down. Default 3000. */
  killGraceMs?: number;
  /** How long `close()` waits for the worker to exit after EOF before killing it. Default 30000. */
  closeTimeoutMs?: number;
}

type Done = Extract<WorkerEvent, { event: 'experiment_done' }>;

interface Run {
  job: LaunchJob;
  index: number;
  started: number;
  onEvent: LaunchOptions['onEvent'];
  resolve: (o: SessionOutcome) => void;
  reject: (e: unknown) => void;
  silence?: NodeJS.Timeout;
  timedOut?: TimeoutKind;
  aborted?: boolean;
  timers: NodeJS.Timeout[];
}

/**
 * One worker process tree kept alive across consecutive experiments with equal load settings:
 * the model loads once (see README.md in this folder for the protocol). Each `run` is one
 * experiment with its own timeouts, output folder and log section; the first failure tears the
 * whole tree down and the session is dead (retry in a new one).
 */
export class WorkerSession {
  private state: 'new' | 'open' | 'dead' | 'closed' = 'new';
  private first: Experiment | undefined;
  private proc: SessionProcess | undefined;
  private current: Run | undefined;
  private sent = 0;
  private busy = false;
  private log: WriteStream | undefined;
  private command: readonly string[] = [];
  private death = '';
  private gone: Promise<void> = Promise.resolve();
  private releaseConfig: () => void = () => {};
  private readonly grace: number;

  constructor(
    private readonly launcher: Launcher,
    private readonly options: WorkerSessionOptions = {},
  ) {
    this.grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  /** Not failed, not closed: it can take another experiment. */
  get alive(): boolean {
    return this.state === 'new' || this.state === 'open';
  }

  /** The load-settings key of the session's first experiment. */
  get key(): string | undefined {
    return this.first && loadSettingsKey(this.first);
  }

  /** Whether `run(experiment)` would run it in this session. */
  accepts(experiment: Experiment): boolean {
    return this.alive && sessionSupport(this.launcher, experiment) === null && (!this.first || this.key === loadSettingsKey(experiment));
  }

  async run(job: LaunchJob, options: LaunchOptions = {}): Promise<SessionOutcome> {
    if (this.state === 'closed') throw new SessionError('the session is closed', 'SESSION_CLOSED');
    if (this.busy) throw new SessionError('a session runs one experiment at a time; one is in flight', 'SESSION_BUSY');
    this.busy = true;
    try {
      return await this.runOne(job, options);
    } finally {
      this.busy = false;
    }
  }

  private async runOne(job: LaunchJob, options: LaunchOptions): Promise<SessionOutcome> {
    const started = Date.now();
    const fail = (kind: 'crashed', message: string): SessionOutcome => ({
      status: 'failed', kind, message, exitCode: null, signal: null, errors: [], durationMs: 0, command: this.command, modelReused: this.sent > 0, modelLoadS: null,
    });
    if (this.state === 'dead') return fail('crashed', this.death);
    if (this.first) {
      const diff = loadSettingsDiff(this.first, job.experiment);
      if (diff.length) throw new SessionError(`load settings differ from the session's: ${diff.join(', ')}`, 'LOAD_SETTINGS_DIFFER');
    } else {
      const why = sessionSupport(this.launcher, job.experiment);
      if (why) throw new SessionError(why, 'SESSION_UNSUPPORTED');
    }
    if (options.signal?.aborted) {
      await this.teardown(forwardedSignal(options.signal.reason));
      return { status: 'interrupted', message: 'interrupted before it started', durationMs: 0, command: this.command, modelReused: this.sent > 0, modelLoadS: null };
    }
    await mkdir(job.outputDir, { recursive: true });
    await mkdir(path.dirname(job.logFile), { recursive: true });
    const outcome = new Promise<SessionOutcome>((resolve, reject) => {
      this.current = { job, index: this.sent, started, onEvent: options.onEvent, resolve, reject, timers: [] };
    });
    const run = this.current as unknown as Run;
    this.openLog(job);
    const onAbort = () => {
      run.aborted = true;
      void this.teardown(forwardedSignal(options.signal?.reason));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (!this.proc) await this.start(job);
      else {
        this.header(job, `session experiment ${this.sent + 1}, model loaded already`);
        this.proc.send(JSON.stringify({ experiment: job.experiment, output_dir: path.resolve(job.outputDir) }));
      }
      this.sent++;
      this.armTimers(run);
      return await outcome;
    } finally {
      for (const t of run.timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
    }
  }

  /** End the session: EOF to the worker, which exits; the tree is killed if it lingers. */
  async close(): Promise<void> {
    const was = this.state;
    this.state = 'closed';
    if (was === 'open' && this.proc) {
      if (this.current) void this.teardown('SIGTERM');
      else this.proc.endInput();
      const timer = setTimeout(() => this.proc?.stop('SIGTERM'), this.options.closeTimeoutMs ?? 30_000);
      await this.gone;
      clearTimeout(timer);
    }
    await this.gone;
    await this.endLog();
  }

  private async start(job: LaunchJob): Promise<void> {
    const lease = job.port === undefined ? await reservePort() : { port: job.port, release: () => {} };
    const configFile = new Promise<string>((gotFile, failed) => {
      withPrivateConfigFile(job.experiment, (file) => {
        gotFile(file);
        return new Promise<void>((release) => (this.releaseConfig = release));
      }).catch(failed);
    });
    let file: string;
    try {
      file = await configFile;
    } catch (e) {
      lease.release();
      throw e;
    }
    const own = this.launcher.command?.(job, file, lease.port);
    if (!own) throw new SessionError(`launcher ${this.launcher.name} has no command()`, 'SESSION_UNSUPPORTED');
    const cmd = { ...own, args: [...own.args, '--session'], env: { ...own.env, ...job.env } };
    this.command = [cmd.file, ...cmd.args];
    this.first = job.experiment;
    this.header(job, `session experiment 1: ${formatCommandLine({ ...own, args: cmd.args })}`);
    const proc = new SessionProcess(cmd, { line: (l) => this.onLine(l), stderr: (c) => this.onOutput(c) }, this.grace);
    this.proc = proc;
    this.state = 'open';
    if (proc.pid !== undefined) this.current?.onEvent?.({ type: 'started', pid: proc.pid, command: this.command });
    this.gone = proc.exited.then(
      (exit) => this.onExit(exit),
      (error: unknown) => this.onExit({ exitCode: null, signal: null, survivors: [] }, error),
    ).finally(() => {
      lease.release();
      this.releaseConfig();
    });
  }

  private armTimers(run: Run): void {
    const expire = (kind: TimeoutKind) => () => {
      run.timedOut ??= kind;
      void this.teardown('SIGTERM');
    };
    if (run.job.timeoutMs) run.timers.push(setTimeout(expire('wall-clock'), run.job.timeoutMs));
    if (run.job.silenceTimeoutMs) {
      run.silence = setTimeout(expire('silence'), run.job.silenceTimeoutMs);
      run.timers.push(run.silence);
    }
  }

  private heard(): void {
    this.current?.silence?.refresh();
  }

  private onOutput(chunk: Buffer): void {
    this.heard();
    this.log?.write(chunk);
  }

  private onLine(line: string): void {
    this.heard();
    this.log?.write(`${line}\n`);
    const event = parseWorkerEventLine(line);
    const run = this.current;
    if (!event || !run) return;
    run.onEvent?.({ type: 'worker', event });
    if (event.event === 'experiment_done' && event.index === run.index) void this.succeed(run, event);
    // A rank failed: the worker exits on its own; if a rank hangs in a collective, end it.
    if (event.event === 'error') run.timers.push(setTimeout(() => void this.teardown('SIGTERM'), this.grace));
  }

  private async succeed(run: Run, done: Done): Promise<void> {
    const { job } = run;
    const errors = await readWorkerErrors(job.outputDir);
    const { files, missing } = await rankFiles(job.outputDir, job.experiment.num_processes);
    if (this.current !== run || run.timedOut || run.aborted) return; // the tree is going down: its exit decides
    if (errors.length || missing.length) {
      this.death = `experiment_done without every rank's result in ${job.outputDir}`;
      await this.teardown('SIGTERM');
      return;
    }
    for (const t of run.timers) clearTimeout(t); // no timer runs between experiments
    run.resolve({
      status: 'succeeded', rankFiles: files, exitCode: 0, durationMs: Date.now() - run.started, command: this.command,
      modelReused: done.model_reused, modelLoadS: done.model_load_s,
    });
  }

  private async onExit(exit: SessionExit, setupError?: unknown): Promise<void> {
    if (this.state !== 'closed') this.state = 'dead';
    const run = this.current;
    const { exitCode, signal } = exit;
    run?.onEvent?.({ type: 'exited', exitCode, signal });
    this.death ||= `the session's worker ${signal ? `was killed by ${signal}` : `exited with code ${exitCode}`} between experiments`;
    if (!run) return;
    if (setupError) return run.reject(setupError); // the launcher itself cannot work (binary missing)
    const durationMs = Date.now() - run.started;
    const base = { durationMs, command: this.command, modelReused: run.index > 0, modelLoadS: null };
    if (run.aborted) return run.resolve({ status: 'interrupted', message: 'interrupted by the caller', ...base });
    const errors = await readWorkerErrors(run.job.outputDir);
    if (run.timedOut) {
      const message =
        run.timedOut === 'silence'
          ? `no output for ${run.job.silenceTimeoutMs} ms; process tree killed`
          : `timed out after ${run.job.timeoutMs} ms (wall clock); process tree killed`;
      return run.resolve({ status: 'failed', kind: 'timeout', timeout: run.timedOut, message, exitCode, signal, errors, ...base });
    }
    const first = errors[0];
    const kind = first?.kind ?? kindFromExitCode(exitCode) ?? (exitCode === 0 || signal ? 'crashed' : 'other');
    const message = first
      ? `rank ${first.rank}: ${first.message}`
      : `session worker ${signal ? `killed by ${signal}` : `exited with code ${exitCode}`} during experiment ${run.index + 1}; see ${run.job.logFile}`;
    run.resolve({ status: 'failed', kind, message, exitCode, signal, errors, ...base });
  }

  /** Kill the whole tree (polite signal, SIGKILL after the grace period) and wait until it is gone. */
  private async teardown(signal: NodeJS.Signals): Promise<void> {
    if (this.state === 'new') this.state = 'dead';
    this.proc?.stop(signal);
    await this.gone;
  }

  private openLog(job: LaunchJob): void {
    if (this.log && this.log.path === job.logFile) return;
    void this.endLog();
    this.log = createWriteStream(job.logFile, { flags: 'a' });
  }

  private header(job: LaunchJob, what: string): void {
    this.log?.write(`--- joules: ${job.id ?? job.experiment.config_name}, attempt ${job.attempt ?? 1}, ${new Date().toISOString()}: ${what}\n`);
  }

  private endLog(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    return new Promise((resolve) => (log ? log.end(resolve) : resolve()));
  }
}
