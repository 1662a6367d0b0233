import os from 'node:os';
import path from 'node:path';
import { startsServer } from '@joules/config';
import { formatCommandLine } from './command-lines.js';
import { LaunchOptionsError } from './errors.js';
import type { CommandLine, Launcher, LaunchJob } from './launcher.js';
import { serverArgv, serverEnv } from './server/server-argv.js';

export interface DryRun extends CommandLine {
  /** The command as one shell-quoted line, its extra environment first. */
  text: string;
}

/** Where the private config file goes (a fresh `mkdtemp` folder per launch). */
export const DRY_RUN_CONFIG_PATH = path.join(os.tmpdir(), 'joules-launch-XXXXXX', 'experiment.json');
/** Stands for the free port picked at launch when the job does not fix `port`. */
export const DRY_RUN_PORT = '<free port>';

/**
 * The command line `launcher` would run for `job`, without running anything: executable,
 * arguments and the extra environment (the launcher's, then the job's). Two values are only known at
 * launch and are shown as placeholders unless given: the private config file (`configPath`) and the
 * rendezvous port (`port`, else `job.port`). Engine "server" started by Joules: `text` shows the
 * server's command line first (`server: ...`, on its free port), then the worker's (`worker: ...`).
 * Throws NO_COMMAND for a launcher without `command`.
 */
export function dryRun(
  launcher: Launcher,
  job: LaunchJob,
  options: { configPath?: string; port?: number } = {},
): DryRun {
  if (!launcher.command) {
    throw new LaunchOptionsError(
      `launcher "${launcher.name}" does not describe its command (no command method), so it cannot dry-run`,
      'NO_COMMAND',
    );
  }
  const port = options.port ?? job.port;
  const cmd = launcher.command(job, options.configPath ?? DRY_RUN_CONFIG_PATH, port ?? 0);
  const args = [...cmd.args];
  const p = args.indexOf('--main_process_port');
  if (port === undefined && p >= 0 && args[p + 1] === '0') args[p + 1] = DRY_RUN_PORT;
  const env = { ...cmd.env, ...job.env };
  const line = { file: cmd.file, args, env };
  const server = serverLine(job, launcher.name === 'slurm');
  return { ...line, text: server ? `server: ${server}\nworker: ${formatCommandLine(line)}` : formatCommandLine(line) };
}

/**
 * Engine "server" started by Joules: the server's command line with its environment (the GPUs, then
 * `server.env`), its port shown as a placeholder (on Slurm its GPUs too: the allocation's, known on
 * the node).
 */
function serverLine(job: LaunchJob, slurm: boolean): string | undefined {
  const e = job.experiment;
  if (!startsServer(e) || e.server.command === null) return undefined;
  const command = slurm ? e.server.command.map((a) => a.replaceAll('{gpu_ids}', SLURM_GPUS)) : e.server.command;
  const [file, ...args] = serverArgv(command, {
    model: e.model_name,
    host: e.server.host,
    port: DRY_RUN_PORT,
    gpuIds: e.gpu_ids,
  });
  const gpus = slurm ? { ...serverEnv([]), CUDA_VISIBLE_DEVICES: SLURM_GPUS } : serverEnv(e.gpu_ids);
  const env = { ...gpus, ...e.server.env };
  return formatCommandLine({ file: file!, args, env });
}

const SLURM_GPUS = "<the allocation's>";
