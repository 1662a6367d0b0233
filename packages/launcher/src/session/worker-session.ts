import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import { readWorkerErrors } from '../classify.js';
import { SessionError } from '../errors.js';
import type { Launcher, LaunchJob, LaunchOptions } from '../launcher.js';
import { DEFAULT_KILL_GRACE_MS, forwardedSignal } from '../run-process.js';
import { parseWorkerEventLine, type WorkerEvent } from '../worker-events.js';
import { loadSettingsDiff, loadSettingsKey, sessionSupport } from './load-settings.js';
import { sessionCommand } from './session-command.js';
import { type SessionExit, SessionProcess } from './session-process.js';
import {
  armTimers,
  doneOutcome,
  exitOutcome,
  type Run,
  SessionLog,
  type SessionOutcome,
  unsentOutcome,
} from './session-run.js';

export type { SessionOutcome } from './session-run.js';

export interface WorkerSessionOptions {
  /** Time between the polite signal and SIGKILL when the session is torn down. Default 3000. */
  killGraceMs?: number;
  /** How long `close()` waits for the worker to exit after EOF before killing it. Default 30000. */
  closeTimeoutMs?: number;
}

type Done = Extract<WorkerEvent, { event: 'experiment_done' }>;

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
  private readonly log = new SessionLog();
  private command: readonly string[] = [];
  private death = '';
  private gone: Promise<void> = Promise.resolve();
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
    return (
      this.alive &&
      sessionSupport(this.launcher, experiment) === null &&
      (!this.first || this.key === loadSettingsKey(experiment))
    );
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
    const unsent = { command: this.command, modelReused: this.sent > 0 };
    if (this.state === 'dead') return unsentOutcome({ status: 'failed', message: this.death, ...unsent });
    if (this.first) {
      const diff = loadSettingsDiff(this.first, job.experiment);
      if (diff.length)
        throw new SessionError(`load settings differ from the session's: ${diff.join(', ')}`, 'LOAD_SETTINGS_DIFFER');
    } else {
      const why = sessionSupport(this.launcher, job.experiment);
      if (why) throw new SessionError(why, 'SESSION_UNSUPPORTED');
    }
    if (options.signal?.aborted) {
      await this.teardown(forwardedSignal(options.signal.reason));
      return unsentOutcome({ status: 'interrupted', message: 'interrupted before it started', ...unsent });
    }
    await mkdir(job.outputDir, { recursive: true });
    await mkdir(path.dirname(job.logFile), { recursive: true });
    const outcome = new Promise<SessionOutcome>((resolve, reject) => {
      this.current = { job, index: this.sent, started, onEvent: options.onEvent, resolve, reject, timers: [] };
    });
    const run = this.current as unknown as Run;
    this.log.open(job.logFile);
    const onAbort = () => {
      run.aborted = true;
      void this.teardown(forwardedSignal(options.signal?.reason));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (!this.proc) await this.start(job);
      else {
        this.log.header(job, `session experiment ${this.sent + 1}, model loaded already`);
        this.proc.send(JSON.stringify({ experiment: job.experiment, output_dir: path.resolve(job.outputDir) }));
      }
      this.sent++;
      armTimers(run, () => void this.teardown('SIGTERM'));
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
      if (this.current) {
        this.current.aborted = true; // closed under a running experiment: it is interrupted
        void this.teardown('SIGTERM');
      } else this.proc.endInput();
      const timer = setTimeout(() => this.proc?.stop('SIGTERM'), this.options.closeTimeoutMs ?? 30_000);
      await this.gone;
      clearTimeout(timer);
    }
    await this.gone;
    await this.log.end();
  }

  private async start(job: LaunchJob): Promise<void> {
    const { cmd, shown, release } = await sessionCommand(this.launcher, job);
    this.command = [cmd.file, ...cmd.args];
    this.first = job.experiment;
    this.log.header(job, `session experiment 1: ${shown}`);
    const proc = new SessionProcess(cmd, { line: (l) => this.onLine(l), stderr: (c) => this.onOutput(c) }, this.grace);
    this.proc = proc;
    this.state = 'open';
    if (proc.pid !== undefined) this.current?.onEvent?.({ type: 'started', pid: proc.pid, command: this.command });
    this.gone = proc.exited
      .then(
        (exit) => this.onExit(exit),
        (error: unknown) => this.onExit({ exitCode: null, signal: null, survivors: [] }, error),
      )
      .finally(release);
  }

  private heard(): void {
    this.current?.silence?.refresh();
  }

  private onOutput(chunk: Buffer): void {
    this.heard();
    this.log.write(chunk);
  }

  private onLine(line: string): void {
    this.heard();
    this.log.write(`${line}\n`);
    const event = parseWorkerEventLine(line);
    const run = this.current;
    if (!event || !run) return;
    run.onEvent?.({ type: 'worker', event });
    if (event.event === 'experiment_done' && event.index === run.index) run.pending = this.succeed(run, event);
    // A rank failed: the worker exits on its own; if a rank hangs in a collective, end it.
    if (event.event === 'error') run.timers.push(setTimeout(() => void this.teardown('SIGTERM'), this.grace));
  }

  private async succeed(run: Run, done: Done): Promise<void> {
    const outcome = await doneOutcome(run, done, this.command);
    if (run.settled || run.timedOut || run.aborted) return; // the tree is going down: its exit decides
    if (typeof outcome === 'string') {
      run.reason = outcome;
      void this.teardown('SIGTERM'); // not awaited: the exit handler waits for this check
      return;
    }
    for (const t of run.timers) clearTimeout(t); // no timer runs between experiments
    run.settled = true;
    run.resolve(outcome);
  }

  private async onExit(exit: SessionExit, setupError?: unknown): Promise<void> {
    if (this.state !== 'closed') this.state = 'dead';
    const run = this.current;
    const { exitCode, signal } = exit;
    run?.onEvent?.({ type: 'exited', exitCode, signal });
    this.death ||= `the session's worker ${signal ? `was killed by ${signal}` : `exited with code ${exitCode}`} between experiments`;
    if (!run) return;
    if (run.pending) await run.pending; // an experiment_done being checked: it may settle the run
    if (run.settled) return;
    run.settled = true;
    if (setupError) return run.reject(setupError); // the launcher itself cannot work (binary missing)
    run.resolve(exitOutcome(run, exit, await readWorkerErrors(run.job.outputDir), this.command));
  }

  /** Kill the whole tree (polite signal, SIGKILL after the grace period) and wait until it is gone. */
  private async teardown(signal: NodeJS.Signals): Promise<void> {
    if (this.state === 'new') this.state = 'dead';
    this.proc?.stop(signal);
    await this.gone;
  }
}
