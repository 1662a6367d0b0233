// A real Slurm cluster of 2 emulated nodes on this machine, for the Slurm launcher's tests:
// munged + slurmctld + 2 slurmd (Debian's slurm-wlm allows several slurmd per host), all in a
// temp folder of its own with its own ports, stopped by pid. Needs root (slurmd switches users).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@joules/launcher';
import { execa } from 'execa';

export interface SlurmCluster {
  dir: string;
  /** Environment for Slurm's client commands (SLURM_CONF). */
  env: { SLURM_CONF: string };
  nodes: readonly string[];
  /**
   * A folder node2 does not see: its slurmd runs in a mount namespace of its own with an empty
   * tmpfs mounted there (a node-local disk). Undefined where `unshare` is not allowed.
   */
  nodeLocalDir: string | undefined;
  /** Wait until both nodes are up (idle, or running jobs), resuming a node a test took down. */
  waitUp(): Promise<void>;
  /** Run a Slurm client command against this cluster. */
  slurm(name: string, args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Cancel every job left, then stop the daemons by pid and remove the folder (once). */
  stop(): Promise<void>;
}

const onPath = async (name: string) =>
  (await execa('sh', ['-c', `command -v ${name}`], { reject: false })).exitCode === 0;

/** Why the cluster cannot start here, or undefined when it can. */
export async function slurmUnavailable(): Promise<string | undefined> {
  for (const bin of ['slurmctld', 'slurmd', 'munged', 'sbatch', 'unshare']) {
    if (!(await onPath(bin))) return `${bin} is not installed (apt-get install -y slurm-wlm munge)`;
  }
  if (process.getuid?.() !== 0) return 'the emulated cluster needs root (slurmd)';
  return undefined;
}

async function idOf(flag: '-u' | '-g', user: string): Promise<number> {
  return Number((await execa('id', [flag, user])).stdout.trim());
}

function slurmConf(dir: string, host: string, ports: number[]): string {
  const [ctld, n1, n2] = ports;
  return `ClusterName=joulestest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${dir}/munge/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/log/jobcomp.txt
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool/%n
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd-%n.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd-%n.log
# Impossible jobs fail at once instead of pending forever.
EnforcePartLimits=ALL
# scancel of a job that ignores SIGTERM takes KillWait seconds (default 30).
KillWait=2
# Jobs start within a second of sbatch, not ~3 s.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MailProg=/bin/true
NodeName=node1 NodeHostname=${host} NodeAddr=127.0.0.1 Port=${n1} CPUs=2 RealMemory=1000 State=UNKNOWN
NodeName=node2 NodeHostname=${host} NodeAddr=127.0.0.1 Port=${n2} CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=node1,node2 Default=YES MaxTime=INFINITE State=UP
`;
}

function daemon(
  dir: string,
  name: string,
  file: string,
  args: string[],
  extra: { uid?: number; gid?: number } = {},
): ChildProcess {
  const fd = openSync(path.join(dir, 'log', `${name}.out`), 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd], ...extra });
  closeSync(fd);
  daemons.add(child);
  child.once('exit', () => daemons.delete(child));
  child.on('error', () => {}); // reported through the readiness check and the .out file
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Every cluster started (or starting) in this process, by its stop function. A test file's hook can
// time out while startSlurmCluster is still waiting for the nodes: `stopSlurmClusters` in afterAll
// then stops what it had started, and at exit any daemon still alive is killed.
const live = new Set<() => Promise<void>>();
const daemons = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of daemons) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Stop every cluster this process started, whole or half started (use in afterAll). */
export async function stopSlurmClusters(): Promise<void> {
  await Promise.all([...live].map((stop) => stop()));
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Start munged, slurmctld and node1/node2's slurmd; resolves once both nodes are up. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-slurm-'));
  await chmod(dir, 0o755); // munged needs every folder above its socket searchable
  for (const sub of ['log', 'state', 'spool/node1', 'spool/node2', 'node-local', 'munge'])
    await mkdir(path.join(dir, sub), { recursive: true });
  const [uid, gid] = [await idOf('-u', 'munge'), await idOf('-g', 'munge')];
  const key = path.join(dir, 'munge', 'munge.key');
  await writeFile(key, randomBytes(1024), { mode: 0o600 });
  await chown(key, uid, gid);
  await chown(path.join(dir, 'munge'), uid, gid);
  const conf = path.join(dir, 'slurm.conf');
  const host = os.hostname().split('.')[0]!;
  await writeFile(conf, slurmConf(dir, host, [await freePort(), await freePort(), await freePort()]));
  const env = { SLURM_CONF: conf };
  const slurm = async (name: string, args: string[]) => {
    const r = await execa(name, args, { env, reject: false });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  const waitUp = async () => {
    for (let i = 0; ; i++) {
      const states = (await slurm('sinfo', ['--noheader', '--Node', '--format=%N %T'])).stdout.trim().split('\n');
      if (states.length === 2 && states.every((s) => / (idle|mixed|allocated)$/.test(s))) return;
      for (const down of states.filter((s) => / (down|drained|drain)\*?$/.test(s))) {
        await slurm('scontrol', ['update', `nodename=${down.split(' ')[0]}`, 'state=resume']);
      }
      if (i > 150)
        throw new Error(
          `the test cluster's nodes are not up after 30 s: ${states.join('; ')}\n${await readFile(path.join(dir, 'log', 'slurmctld.log'), 'utf8').catch(() => '')}`,
        );
      await sleep(200);
    }
  };
  const children: ChildProcess[] = [];
  const nodeLocalDir = path.join(dir, 'node-local');
  const canHide =
    (
      await execa(
        'unshare',
        ['--mount', '--propagation', 'private', '--', 'mount', '-t', 'tmpfs', 'tmpfs', nodeLocalDir],
        { reject: false },
      )
    ).exitCode === 0;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await slurm('scancel', ['--user=root']).catch(() => undefined);
      for (let i = 0; i < 50 && (await slurm('squeue', ['--noheader'])).stdout.trim() !== ''; i++) await sleep(200);
      for (const child of children.reverse()) await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
      live.delete(stop);
    })());
  live.add(stop);
  try {
    const munge = path.join(dir, 'munge');
    children.push(
      daemon(
        dir,
        'munged',
        'munged',
        [
          '--foreground',
          `--socket=${munge}/munge.sock`,
          `--key-file=${key}`,
          `--pid-file=${munge}/munged.pid`,
          `--log-file=${munge}/munged.log`,
          `--seed-file=${munge}/munged.seed`,
        ],
        { uid, gid },
      ),
    );
    children.push(daemon(dir, 'slurmctld', 'slurmctld', ['-D', '-f', conf]));
    children.push(daemon(dir, 'slurmd-node1', 'slurmd', ['-D', '-f', conf, '-N', 'node1']));
    const node2 = ['slurmd', '-D', '-f', conf, '-N', 'node2'];
    children.push(
      canHide
        ? daemon(dir, 'slurmd-node2', 'unshare', [
            '--mount',
            '--propagation',
            'private',
            '--',
            'sh',
            '-c',
            'mount -t tmpfs tmpfs "$0" && exec "$@"',
            nodeLocalDir,
            ...node2,
          ])
        : daemon(dir, 'slurmd-node2', node2[0]!, node2.slice(1)),
    );
    await waitUp();
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, env, nodes: ['node1', 'node2'], nodeLocalDir: canHide ? nodeLocalDir : undefined, waitUp, slurm, stop };
}
