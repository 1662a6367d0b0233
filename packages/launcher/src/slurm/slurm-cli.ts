import { execa } from 'execa';
import { SlurmError } from '../errors.js';

/** How to reach Slurm's client commands. */
export interface SlurmClient {
  /** Folder of sbatch, squeue, scontrol, scancel, sacct, sinfo; default: found on PATH. */
  binDir?: string;
  /** Extra environment for those commands, e.g. `{ SLURM_CONF: '/etc/slurm/other.conf' }`. */
  env?: Record<string, string>;
}

export interface SlurmCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  command: string[];
}

/**
 * Run one Slurm client command. A non-zero exit is returned, not thrown (Slurm's commands exit 1
 * for every error); a command that cannot start throws SlurmError SLURM_NOT_FOUND.
 */
export async function slurmCommand(
  client: SlurmClient,
  name: string,
  args: readonly string[],
): Promise<SlurmCommandResult> {
  const file = client.binDir ? `${client.binDir}/${name}` : name;
  const result = await execa(file, args, {
    reject: false,
    env: client.env ?? {},
    extendEnv: true,
    stdin: 'ignore',
    timeout: 120_000,
  });
  if (result.exitCode === undefined || result.timedOut) {
    const code = result.timedOut ? 'SLURM_UNREACHABLE' : 'SLURM_NOT_FOUND';
    const why = result.timedOut
      ? 'did not answer within 120 s'
      : `cannot be run (${result.code ?? result.shortMessage}); is Slurm installed on this machine?`;
    throw new SlurmError(`${file} ${why}`, code, { cause: result });
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, command: [file, ...args] };
}

/** True when the controller answers (`scontrol ping`). */
export async function controllerUp(client: SlurmClient): Promise<boolean> {
  return (await slurmCommand(client, 'scontrol', ['ping'])).exitCode === 0;
}

/** `node[1-3],gpu7` → `['node1', 'node2', 'node3', 'gpu7']`, through `scontrol show hostnames`. */
export async function expandHostlist(client: SlurmClient, hostlist: string): Promise<string[]> {
  const r = await slurmCommand(client, 'scontrol', ['show', 'hostnames', hostlist]);
  return r.exitCode === 0
    ? r.stdout
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** Cancel a job (`scancel`). Resolves false when Slurm refused (the job may already be gone). */
export async function scancel(client: SlurmClient, jobId: string): Promise<boolean> {
  return (await slurmCommand(client, 'scancel', [jobId])).exitCode === 0;
}
