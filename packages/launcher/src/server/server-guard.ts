/**
 * The server guard: a small Node program between Joules and the inference server, run by
 * start-server.ts (`process.execPath` + guardArgs(), the spec in JOULES_SERVER_SPEC). It starts
 * the server in a process group of its own (output appended to the log file) and stops that group
 * (SIGTERM, then SIGKILL after `graceMs`), plus every process still carrying the launch marker, when:
 * - its stdin closes: the Joules process died, even by SIGKILL (the kernel closes the pipe);
 * - it gets SIGTERM, SIGINT or SIGHUP (Joules stopping the server).
 * It prints one GuardEvent JSON line per event on stdout and exits once the server and its group
 * are gone: 0 when stopped, the server's exit code when it ended on its own (1 for a signal), 127
 * when it could not start.
 */
import { openSync, writeSync } from 'node:fs';
import { execa } from 'execa';
import { signalTreeSync } from '../process-tree.js';
import { GUARD_SPEC_ENV, type GuardEvent, type GuardSpec } from './guard-protocol.js';

const spec = JSON.parse(process.env[GUARD_SPEC_ENV] ?? '') as GuardSpec;

function say(event: GuardEvent): void {
  try {
    writeSync(1, `${JSON.stringify(event)}\n`);
  } catch {
    // Joules is gone: nobody reads.
  }
}

const spawnError = (message: string, code: string | undefined) =>
  say({ event: 'spawn-error', message, ...(code !== undefined && { code }) });

// Handed to the server as its stdout and stderr, as is (execa's types list only fds 3 to 9; any fd works).
const log = openSync(spec.logFile, 'a') as 3;
let server: ReturnType<typeof startServer>;
let stopping = false;
let exited = false;

function startServer() {
  const [file = '', ...args] = spec.argv;
  return execa(file, args, {
    env: spec.env,
    extendEnv: true,
    detached: true,
    stdin: 'ignore',
    stdout: log,
    stderr: log,
    reject: false,
  });
}

const killAll = (signal: NodeJS.Signals) => signalTreeSync(server?.pid, spec.launchId, signal);

function finish(code: number): never {
  killAll('SIGKILL');
  process.exit(code);
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  if (!server || exited) finish(0);
  killAll('SIGTERM');
  setTimeout(() => finish(0), spec.graceMs);
}

try {
  server = startServer();
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  spawnError(String(e?.message), e?.code);
  process.exit(127);
}
server.once('spawn', () => say({ event: 'spawned', pid: server.pid! }));
void server.then((result) => {
  exited = true;
  if (result.exitCode === undefined && result.signal === undefined) {
    spawnError(String(result.originalMessage ?? result.message), result.code);
    finish(127);
  }
  say({ event: 'exit', code: result.exitCode ?? null, signal: result.signal ?? null });
  if (stopping) setTimeout(() => finish(0), 100);
  else finish(result.exitCode ?? 1);
});

process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
