import { canonicalJson, type Experiment, startsServer } from '@joules/config';
import { ServerError } from '../errors.js';
import type { CommandLine, Launcher, LaunchJob, LaunchOptions, LaunchOutcome, ServerOutcomeKind } from '../launcher.js';
import { probeHealth, withLogTail } from './health.js';
import { withPathPrefix } from './server-argv.js';
import { type ServerHandle, startServer } from './start-server.js';

export interface ServerLauncherOptions {
  /** SIGTERM → SIGKILL grace of a stopped server (default 5000 ms). */
  graceMs?: number;
  /** Put first on the server's PATH (the worker venv's bin: `transformers serve` is installed there). */
  pathPrefix?: string;
}

/** `logs/<id>.log` → `logs/<id>-server.log`. */
export const serverLogFile = (job: LaunchJob) => `${job.logFile.replace(/\.log$/, '')}-server.log`;

/** What makes two experiments share one server: command, model, GPUs, host, environment. */
export const serverKey = (e: Experiment) =>
  canonicalJson([e.server.command, e.model_name, e.gpu_ids, e.server.host, e.server.env]);

const live = new Set<ServerLauncher>();

/** Stop every server a ServerLauncher of this process holds (the end of a run or suite). */
export async function closeServers(): Promise<void> {
  await Promise.all([...live].map((l) => l.close()));
}

/**
 * Runs engine "server" experiments: starts the server (or checks an attached `server.url`), hands
 * the worker its URL and devices, and turns server failures into outcomes. One server is kept for
 * consecutive experiments with the same {@link serverKey}; it is restarted when the key changes,
 * when it died, and after any failed attempt. Other experiments go to `inner` untouched.
 */
export class ServerLauncher implements Launcher {
  readonly name: string;
  private current: { key: string; handle: ServerHandle } | undefined;
  private restart = false;

  constructor(
    private readonly inner: Launcher,
    private readonly options: ServerLauncherOptions = {},
  ) {
    this.name = inner.name;
    if (inner.command) this.command = (job, configPath, port) => inner.command!(job, configPath, port);
  }

  command?: (job: LaunchJob, configPath: string, port: number) => CommandLine;

  /** The server in use now (tests, diagnostics). */
  get server(): ServerHandle | undefined {
    return this.current?.handle;
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    live.delete(this);
    await c?.handle.stop();
  }

  /**
   * Engine "server" attempts run one at a time (a server is measured alone: with --max-parallel
   * they queue here); others go straight to `inner`.
   */
  launch(job: LaunchJob, options: LaunchOptions = {}): Promise<LaunchOutcome> {
    if (!startsServer(job.experiment)) return this.inner.launch(job, options);
    const run = this.queue.then(() => this.launchServing(job, options));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private queue: Promise<void> = Promise.resolve();

  private async launchServing(job: LaunchJob, options: LaunchOptions): Promise<LaunchOutcome> {
    const e = job.experiment;
    const t0 = Date.now();
    const failed = (kind: ServerOutcomeKind, message: string): LaunchOutcome => ({
      status: 'failed',
      kind,
      message,
      exitCode: null,
      signal: null,
      errors: [],
      durationMs: Date.now() - t0,
      command: [],
    });
    let handle: ServerHandle | undefined;
    let url: string;
    let devices: number[] | null;
    if (e.server.url !== null) {
      url = e.server.url;
      devices = e.server.devices;
      if (!(await probeHealth(url, 5000)))
        return failed('server_unreachable', `cannot reach server.url ${url}: no answer from /health or /v1/models`);
    } else {
      const key = serverKey(e);
      if (this.current && (this.current.key !== key || !this.current.handle.alive() || this.restart))
        await this.close();
      if (!this.current) {
        try {
          const started = await startServer({
            command: e.server.command!,
            model: e.model_name,
            host: e.server.host,
            gpuIds: e.gpu_ids,
            logFile: serverLogFile(job),
            readyTimeoutMs: e.server.ready_timeout_s * 1000,
            env: withPathPrefix(e.server.env, this.options.pathPrefix),
            ...(this.options.graceMs !== undefined && { graceMs: this.options.graceMs }),
          });
          this.current = { key, handle: started };
          live.add(this);
        } catch (err) {
          if (err instanceof ServerError) return failed(err.code as ServerOutcomeKind, err.message);
          throw err;
        }
      }
      this.restart = false;
      handle = this.current.handle;
      url = handle.url;
      devices = e.gpu_ids;
    }
    const experiment: Experiment = { ...e, server: { ...e.server, url, devices } };
    // A server that dies mid-run stops the worker at once (it would only see refused connections).
    const abort = new AbortController();
    const forward = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', forward, { once: true });
    if (options.signal?.aborted) forward();
    let died = false;
    void handle?.exited.then(() => {
      if (abort.signal.aborted) return;
      died = true;
      abort.abort('SIGTERM');
    });
    const outcome = await this.inner.launch({ ...job, experiment }, { ...options, signal: abort.signal });
    options.signal?.removeEventListener('abort', forward);
    if (handle && (died || (!handle.alive() && outcome.status !== 'succeeded'))) {
      this.restart = true;
      const exit = await handle.exited;
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      return failed(
        'server_crashed',
        await withLogTail(`the server died during the experiment (${how}): ${handle.argv.join(' ')}`, handle.logFile),
      );
    }
    if (outcome.status === 'failed') {
      this.restart = true; // always a fresh server after a failure
      if (outcome.kind === 'server_error' && handle)
        return { ...outcome, message: await withLogTail(outcome.message, handle.logFile) };
    }
    return outcome;
  }
}
