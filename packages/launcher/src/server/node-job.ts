import { readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { execa } from 'execa';
import { ServerError } from '../errors.js';
import { withLogTail } from './health.js';
import { withPathPrefix } from './server-argv.js';
import { type ServerHandle, startServer } from './start-server.js';

/**
 * Engine "server" inside a Slurm job. The batch script runs `node node-job-main.js <spec>` on the
 * job's node (one task). It starts the inference server there on a free port, with the allocation's
 * GPUs (Slurm's CUDA_VISIBLE_DEVICES), behind the same guard as a local server. It rewrites the
 * experiment file with the server's URL and devices, runs the worker, then stops the server's
 * tree. A server failure goes to `errorFile` ({kind, message}; the Slurm outcome reads it) and the
 * job exits {@link EXIT_SERVER_FAILED}.
 */
export interface NodeJobSpec {
  /** `server.command`, placeholders not yet replaced. */
  command: string[];
  model: string;
  host: string;
  readyTimeoutMs: number;
  logFile: string;
  /** Put first on the server's PATH (the worker venv's bin). */
  pathPrefix: string;
  /** `server.env`: more environment for the server (its GPUs stay the allocation's). */
  env?: Record<string, string>;
  /** The experiment file the worker reads (rewritten with server.url and server.devices). */
  configPath: string;
  /** Where a server failure is written (`<job dir>/server-error.json`, fresh for each launch). */
  errorFile: string;
  /** The worker's command line. */
  workerArgv: string[];
  graceMs?: number;
}

export const SERVER_ERROR_FILE = 'server-error.json';
export const EXIT_SERVER_FAILED = 96;

/**
 * The allocation's GPUs as Slurm hands them to the job (CUDA_VISIBLE_DEVICES, passed to the server
 * unchanged): `gpuIds` for the {gpu_ids} placeholder (CUDA's numbering of the visible devices where
 * Slurm gives UUIDs), and `devices`, the NVML indices the worker reads energy from: those numbers,
 * or null (no energy, the worker says so) where they are not plain indices.
 */
export function allocationGpus(env: NodeJS.ProcessEnv = process.env): {
  visible: string;
  gpuIds: number[];
  devices: number[] | null;
} {
  const visible = env.CUDA_VISIBLE_DEVICES ?? '';
  const ids = visible
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const numeric = ids.every((s) => /^\d+$/.test(s));
  return {
    visible,
    gpuIds: numeric ? ids.map(Number) : ids.map((_, i) => i),
    devices: numeric ? ids.map(Number) : null,
  };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** Where the node job says what went wrong (node-job-main: the job's log, through stderr). */
export type NodeJobLog = (line: string) => void;

const serverFailed = async (errorFile: string, kind: string, message: string, log: NodeJobLog) => {
  await writeAtomic(errorFile, `${JSON.stringify({ kind, message }, null, 2)}\n`);
  log(`joules: ${kind}: ${message}`);
  return EXIT_SERVER_FAILED;
};

/** An exit as a shell tells it: the code, 128 + the signal's number, or 127 when it could not start. */
const shellStatus = ({ exitCode, signal }: { exitCode?: number; signal?: NodeJS.Signals }) =>
  exitCode ?? (signal ? 128 + (os.constants.signals[signal] ?? 9) : 127);

/** Start the server, run the worker against it, stop the server; the job's exit code. */
export async function runNodeJob(spec: NodeJobSpec, log: NodeJobLog = () => {}): Promise<number> {
  const { visible, gpuIds, devices } = allocationGpus();
  let handle: ServerHandle;
  try {
    handle = await startServer({
      command: spec.command,
      model: spec.model,
      host: spec.host,
      gpuIds,
      logFile: spec.logFile,
      readyTimeoutMs: spec.readyTimeoutMs,
      env: { ...withPathPrefix(spec.env ?? {}, spec.pathPrefix), CUDA_VISIBLE_DEVICES: visible },
      ...(spec.graceMs !== undefined && { graceMs: spec.graceMs }),
    });
  } catch (err) {
    if (err instanceof ServerError) return serverFailed(spec.errorFile, err.code, err.message, log);
    throw err;
  }
  try {
    const experiment = JSON.parse(await readFile(spec.configPath, 'utf8')) as { server: Record<string, unknown> };
    experiment.server = { ...experiment.server, url: handle.url, devices };
    await writeAtomic(spec.configPath, `${JSON.stringify(experiment, null, 2)}\n`);
    const [file = '', ...args] = spec.workerArgv;
    // As a plain spawn: no exit cleanup and no SIGKILL after a delay (the signals are forwarded).
    const worker = execa(file, args, { stdio: 'inherit', reject: false, cleanup: false, forceKillAfterDelay: false });
    // Signalled (scancel, time limit, preemption): Slurm signals the server too; that is no crash.
    let signalled = false;
    const forward = (signal: NodeJS.Signals) => () => {
      signalled = true;
      worker.kill(signal);
    };
    const handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    let done = false;
    let died = false;
    void handle.exited.then(() => {
      if (done || signalled) return;
      died = true;
      worker.kill('SIGTERM'); // it would only see refused connections
    });
    const result = await worker;
    if (result.exitCode === undefined && result.signal === undefined) {
      log(`joules: cannot run the worker ${file}: ${result.originalMessage ?? result.message}`);
    }
    const code = shellStatus(result);
    done = true;
    for (const [s, h] of handlers) process.off(s, h);
    // The server died first (the worker stopped for it), or the worker failed on a dead server.
    if (!signalled && (died || (!handle.alive() && code !== 0))) {
      const exit = await handle.exited;
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      const why = `the server died during the experiment (${how}): ${handle.argv.join(' ')}`;
      return serverFailed(spec.errorFile, 'server_crashed', await withLogTail(why, handle.logFile), log);
    }
    return code;
  } finally {
    await handle.stop();
  }
}
