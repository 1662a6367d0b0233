import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import { rankFiles, readWorkerErrors } from '../classify.js';
import { formatCommandLine } from '../command-lines.js';
import { SessionError } from '../errors.js';
import { reservePort } from '../free-port.js';
import type { CommandLine, Launcher, LaunchJob, LaunchOptions, TimeoutKind } from '../launcher.js';
import { DEFAULT_KILL_GRACE_MS, forwardedSignal } from '../run-process.js';
import { parseWorkerEventLine, type WorkerEvent } from '../worker-events.js';
import { loadSettingsDiff, loadSettingsKey, sessionSupport } from './load-settings.js';
import { type SessionExit, SessionProcess } from './session-process.js';
import { exitOutcome, holdPrivateConfig, type Run, SessionLog, type SessionOutcome } from './session-run.js';

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
    const early = {
      exitCode: null,
      signal: null,
      errors: [],
      durationMs: 0,
      modelReused: this.sent > 0,
      modelLoadS: null,
    };
    if (this.state === 'dead')
      return { status: 'failed', kind: 'crashed', message: this.death, ...early, command: this.command };
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
      return {
        status: 'interrupted',
        message: 'interrupted before it started',
        durationMs: 0,
        command: this.command,
        modelReused: this.sent > 0,
        modelLoadS: null,
      };
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
    const lease = job.port === undefined ? await reservePort() : { port: job.port, release: () => {} };
    let held: { file: string; release: () => void };
    try {
      held = await holdPrivateConfig(job.experiment);
    } catch (e) {
      lease.release();
      throw e;
    }
    let own: CommandLine | undefined;
    try {
      own = this.launcher.command?.(job, held.file, lease.port);
      if (!own) throw new SessionError(`launcher ${this.launcher.name} has no command()`, 'SESSION_UNSUPPORTED');
    } catch (e) {
      lease.release();
      held.release();
      throw e;
    }
    this.releaseConfig = held.release;
    const cmd = { ...own, args: [...own.args, '--session'], env: { ...own.env, ...job.env } };
    this.command = [cmd.file, ...cmd.args];
    this.first = job.experiment;
    this.log.header(job, `session experiment 1: ${formatCommandLine({ ...own, args: cmd.args })}`);
    const proc = new SessionProcess(cmd, { line: (l) => this.onLine(l), stderr: (c) => this.onOutput(c) }, this.grace);
    this.proc = proc;
    this.state = 'open';
    if (proc.pid !== undefined) this.current?.onEvent?.({ type: 'started', pid: proc.pid, command: this.command });
    this.gone = proc.exited
      .then(
        (exit) => this.onExit(exit),
        (error: unknown) => this.onExit({ exitCode: null, signal: null, survivors: [] }, error),
      )
      .finally(() => {
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
    const { job } = run;
    const errors = await readWorkerErrors(job.outputDir);
    const { files, missing } = await rankFiles(job.outputDir, job.experiment.num_processes);
    if (run.settled || run.timedOut || run.aborted) return; // the tree is going down: its exit decides
    if (errors.length || missing.length) {
      run.reason = `experiment_done without every rank's result (missing: ${missing.join(', ') || 'none'})`;
      void this.teardown('SIGTERM'); // not awaited: the exit handler waits for this check
      return;
    }
    for (const t of run.timers) clearTimeout(t); // no timer runs between experiments
    run.settled = true;
    run.resolve({
      status: 'succeeded',
      rankFiles: files,
      exitCode: 0,
      durationMs: Date.now() - run.started,
      command: this.command,
      modelReused: done.model_reused,
      modelLoadS: done.model_load_s,
    });
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
