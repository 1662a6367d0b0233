import os from 'node:os';
import { SlurmError } from '../errors.js';
import { controllerUp, type SlurmClient, slurmCommand } from './slurm-cli.js';

/** What Slurm says about one job. */
export interface SlurmJobInfo {
  jobId: string;
  /** The base state, e.g. PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, TIMEOUT, CANCELLED. */
  state: string;
  /** The batch script's exit code (`ExitCode=<code>:<signal>`), null when not given. */
  exitCode: number | null;
  /** The signal that ended the script, as a name (`SIGTERM`), null when none. */
  signal: string | null;
  /** Slurm's reason (`NonZeroExitCode`, `TimeLimit`, `NodeDown`...), when given. */
  reason?: string;
  /** The allocated nodes as a hostlist (`node[1-2]`), when known. */
  nodeList?: string;
  /** Where the answer came from: the controller's memory of the job, or the accounting database. */
  source: 'scontrol' | 'sacct';
}

/** States after which nothing of the job runs any more (COMPLETING is not one: nodes are cleaning up). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

const SIGNALS = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n as number, name]));

function exitCodeOf(text: string | undefined): Pick<SlurmJobInfo, 'exitCode' | 'signal'> {
  const m = text ? /^(\d+):(\d+)$/.exec(text) : null;
  if (!m) return { exitCode: null, signal: null };
  const sig = Number(m[2]);
  return { exitCode: Number(m[1]), signal: sig === 0 ? null : (SIGNALS.get(sig) ?? `signal ${sig}`) };
}

const field = (line: string, key: string) => new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(line)?.[1];
const known = (value: string | undefined) => (value && value !== '(null)' && value !== 'None' ? value : undefined);

/** One line of `scontrol show job -o <id>`. */
export function parseScontrolJob(line: string): SlurmJobInfo | undefined {
  const jobId = field(line, 'JobId');
  const state = field(line, 'JobState');
  if (!jobId || !state) return undefined;
  const info: SlurmJobInfo = { jobId, state, ...exitCodeOf(field(line, 'ExitCode')), source: 'scontrol' };
  const reason = known(field(line, 'Reason'));
  const nodeList = known(field(line, 'NodeList'));
  if (reason) info.reason = reason;
  if (nodeList) info.nodeList = nodeList;
  return info;
}

/** The columns asked of sacct, in order. */
export const SACCT_FORMAT = 'JobID,State,ExitCode,NodeList,Reason';

/** One line of `sacct -X -n -P -o JobID,State,ExitCode,NodeList,Reason -j <id>` (`CANCELLED by 0` → CANCELLED). */
export function parseSacctLine(line: string): SlurmJobInfo | undefined {
  const [jobId, state, exitCode, nodeList, reason] = line.trim().split('|');
  const base = state?.split(/\s+/)[0];
  if (!jobId || !base) return undefined;
  const info: SlurmJobInfo = { jobId, state: base, ...exitCodeOf(exitCode), source: 'sacct' };
  if (known(reason)) info.reason = reason!;
  if (known(nodeList) && nodeList !== 'None assigned') info.nodeList = nodeList!;
  return info;
}

/**
 * The job's state: from the controller while it remembers the job (MinJobAge, 300 s by default),
 * then from accounting when the cluster has it. `gone`: the controller answers but neither knows
 * the job; `unreachable`: the controller does not answer.
 */
export async function querySlurmJob(
  client: SlurmClient,
  jobId: string,
): Promise<SlurmJobInfo | 'gone' | 'unreachable'> {
  try {
    return await askSlurm(client, jobId);
  } catch (error) {
    // A client command that hangs (controller overloaded) is the same as no answer: ask again later.
    if (error instanceof SlurmError && error.code === 'SLURM_UNREACHABLE') return 'unreachable';
    throw error;
  }
}

async function askSlurm(client: SlurmClient, jobId: string): Promise<SlurmJobInfo | 'gone' | 'unreachable'> {
  const shown = await slurmCommand(client, 'scontrol', ['show', 'job', '-o', jobId]);
  if (shown.exitCode === 0) {
    const info = shown.stdout
      .split('\n')
      .map(parseScontrolJob)
      .find((i) => i?.jobId === jobId);
    if (info) return info;
  }
  if (!(await controllerUp(client))) return 'unreachable';
  // Without accounting sacct exits 1 ("accounting storage is disabled"): the job is simply gone.
  const acct = await slurmCommand(client, 'sacct', ['-X', '-n', '-P', '-o', SACCT_FORMAT, '-j', jobId]);
  if (acct.exitCode !== 0) return 'gone';
  return (
    acct.stdout
      .split('\n')
      .map(parseSacctLine)
      .find((i) => i?.jobId === jobId) ?? 'gone'
  );
}
