import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ServerError } from '../errors.js';
import { reservePort } from '../free-port.js';
import { LAUNCH_MARKER, newLaunchId, trackLaunch, untrackLaunch, waitTreeGone } from '../process-tree.js';
import { GUARD_SPEC_ENV, type GuardEvent, type GuardSpec, guardArgs } from './guard-protocol.js';
import { probeHealth, withLogTail } from './health.js';
import { serverArgv, serverEnv } from './server-argv.js';

export interface StartServerOptions {
  /** `server.command`, placeholders not yet replaced. */
  command: readonly string[];
  model: string;
  host: string;
  gpuIds: readonly number[];
  /** The server's output (appended): `logs/<id>-server.log`. */
  logFile: string;
  readyTimeoutMs: number;
  /** More environment for the server. */
  env?: Record<string, string>;
  /** SIGTERM → SIGKILL grace when stopping (default 5000 ms). */
  graceMs?: number;
  /** Health probe interval (default 250 ms). */
  pollMs?: number;
}

export interface ServerExit {
  code: number | null;
  signal: string | null;
}

/** A running server, started by Joules. */
export interface ServerHandle {
  url: string;
  port: number;
  argv: string[];
  logFile: string;
  /** Resolves when the server exits (stopped or crashed). */
  readonly exited: Promise<ServerExit>;
  alive(): boolean;
  /** Stop the server's whole process tree; resolves when no process of it is left. */
  stop(): Promise<void>;
}

/**
 * Start `command` on a free port with CUDA_VISIBLE_DEVICES from `gpuIds`, behind the guard (see
 * server-guard.ts: no server outlives this process), and wait until it answers `/health` (or
 * `/v1/models`). Throws ServerError `server_start_failed` (with the log's tail) when the command is
 * not found, the server exits first, or `readyTimeoutMs` passes; the tree is gone by then.
 */
export async function startServer(o: StartServerOptions): Promise<ServerHandle> {
  const { port, release } = await reservePort();
  const argv = serverArgv(o.command, { model: o.model, host: o.host, port, gpuIds: o.gpuIds });
  await mkdir(path.dirname(o.logFile), { recursive: true });
  const marker = newLaunchId();
  const spec: GuardSpec = {
    argv,
    env: { ...serverEnv(o.gpuIds), ...o.env },
    logFile: o.logFile,
    graceMs: o.graceMs ?? 5000,
    launchId: marker,
  };
  const guard = execa(process.execPath, guardArgs(), {
    env: { [GUARD_SPEC_ENV]: JSON.stringify(spec), [LAUNCH_MARKER]: marker },
    extendEnv: true,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
    buffer: false,
    reject: false,
    // The guard stops the server itself, with its grace period, when told to or when this process
    // goes (its stdin closes): no exit cleanup and no SIGKILL after a delay from execa.
    cleanup: false,
    forceKillAfterDelay: false,
  });
  trackLaunch(marker, guard.pid ?? 0);
  let spawnError: string | undefined;
  let exit: ServerExit | undefined;
  let resolveExit!: (e: ServerExit) => void;
  const exited = new Promise<ServerExit>((r) => (resolveExit = r));
  createInterface({ input: guard.stdout! }).on('line', (line) => {
    let ev: GuardEvent;
    try {
      ev = JSON.parse(line) as GuardEvent;
    } catch {
      return;
    }
    if (ev.event === 'spawn-error') spawnError = `${ev.message}${ev.code ? ` (${ev.code})` : ''}`;
    if (ev.event === 'exit') exit = { code: ev.code, signal: ev.signal };
  });
  void guard.then((result) => {
    exit ??= { code: spawnError ? 127 : (result.exitCode ?? null), signal: null };
    release();
    untrackLaunch(marker);
    resolveExit(exit);
  });
  guard.stdin!.on('error', () => undefined);
  let stopping: Promise<void> | undefined;
  const handle: ServerHandle = {
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    port,
    argv,
    logFile: o.logFile,
    exited,
    alive: () => exit === undefined,
    stop: () =>
      (stopping ??= (async () => {
        if (exit === undefined) guard.kill('SIGTERM');
        await exited;
        await waitTreeGone(marker, 2000);
      })()),
  };
  const deadline = Date.now() + o.readyTimeoutMs;
  for (;;) {
    if (exit !== undefined) {
      await handle.stop();
      const why = spawnError
        ? `server command not found or not runnable: ${argv[0]}: ${spawnError}`
        : `the server exited before it was healthy (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}): ${argv.join(' ')}`;
      throw new ServerError(await withLogTail(why, o.logFile), 'server_start_failed');
    }
    if (await probeHealth(handle.url)) return handle;
    if (Date.now() >= deadline) {
      await handle.stop();
      const why = `the server gave no health (GET /health or /v1/models) within ready_timeout_s ${o.readyTimeoutMs / 1000}: ${argv.join(' ')}`;
      throw new ServerError(await withLogTail(why, o.logFile), 'server_start_failed');
    }
    await sleep(o.pollMs ?? 250);
  }
}
