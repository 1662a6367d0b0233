import { SlurmError } from '../errors.js';
import type { LaunchJob } from '../launcher.js';
import { parseSlurmTime, toSlurmMinutes } from './time.js';

/** What one experiment's Slurm job asks for (proposed config: `launch.slurm`, snake_case). */
export interface SlurmResources {
  /** Nodes of the job; each runs one `accelerate launch`. Default 1. */
  nodes?: number;
  /** GPUs per node (`--gpus-per-node`); 0 or absent runs on CPU. */
  gpusPerNode?: number;
  /** CPUs of each node's task (`--cpus-per-task`): that node's accelerate and all its ranks. */
  cpusPerTask?: number;
  /** Memory per node in Slurm's syntax (`--mem`): `64G`, `512M`, `0` for all of it. */
  mem?: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** Wall-clock limit (`--time`): minutes, or a Slurm time such as `2:00:00` or `1-12:00:00`. */
  timeLimit?: string | number;
  /** More sbatch options, passed as given (e.g. `['--constraint=a100', '--exclusive']`). */
  extraArgs?: string[];
}

/** The checked shape of one job: how the experiment's processes spread over the nodes. */
export interface SlurmPlan {
  nodes: number;
  /** Processes on each node; `experiment.num_processes` is the whole world. */
  processesPerNode: number;
  gpusPerNode: number;
  /** `--time` in minutes, from `timeLimit` and `job.timeoutMs` (the smaller), if either is set. */
  timeLimitMin?: number;
}

const FIELD = {
  nodes: 'nodes',
  gpusPerNode: 'gpus_per_node',
  cpusPerTask: 'cpus_per_task',
  mem: 'mem',
  partition: 'partition',
  account: 'account',
  qos: 'qos',
  timeLimit: 'time_limit',
  extraArgs: 'extra_args',
} as const satisfies Record<keyof SlurmResources, string>;

/** Options the launcher sets itself: an extra argument may not change them. */
const OWNED =
  /^(?:-[NnoeaD]|--(?:nodes|ntasks|ntasks-per-node|output|error|open-mode|parsable|wrap|array|chdir)(?:=|$))/;

function bad(field: keyof SlurmResources | 'num_processes' | 'gpu_ids', message: string): never {
  const name = field === 'num_processes' || field === 'gpu_ids' ? field : `launch.slurm.${FIELD[field]}`;
  throw new SlurmError(`${name}: ${message}`, 'SLURM_BAD_OPTIONS');
}

const isCount = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const WORD = /^[\w.+-]+$/;

/** Check the resources against the experiment; throws SlurmError (SLURM_BAD_OPTIONS) naming the field. */
export function planJob(resources: SlurmResources, job: LaunchJob): SlurmPlan {
  const r = resources;
  const nodes = r.nodes ?? 1;
  const gpusPerNode = r.gpusPerNode ?? 0;
  if (!isCount(nodes, 1)) bad('nodes', `expected an integer >= 1, got ${String(r.nodes)}`);
  if (!isCount(gpusPerNode, 0)) bad('gpusPerNode', `expected an integer >= 0, got ${String(r.gpusPerNode)}`);
  if (r.cpusPerTask !== undefined && !isCount(r.cpusPerTask, 1))
    bad('cpusPerTask', `expected an integer >= 1, got ${String(r.cpusPerTask)}`);
  if (r.mem !== undefined && !/^\d+[KMGT]?$/i.test(r.mem))
    bad('mem', `expected a size such as 64G, 512M or 0, got ${JSON.stringify(r.mem)}`);
  for (const key of ['partition', 'account', 'qos'] as const) {
    const value = r[key];
    if (value !== undefined && !WORD.test(value))
      bad(key, `expected a Slurm name (letters, digits, . _ + -), got ${JSON.stringify(value)}`);
  }
  for (const arg of r.extraArgs ?? []) {
    if (!arg.startsWith('-')) bad('extraArgs', `${JSON.stringify(arg)} is not an option (write --name=value)`);
    if (OWNED.test(arg))
      bad('extraArgs', `${arg} is set by the launcher; use launch.slurm.nodes or the experiment's files instead`);
  }
  const n = job.experiment.num_processes;
  if (n % nodes !== 0)
    bad('num_processes', `${n} processes do not split evenly over ${nodes} nodes (launch.slurm.nodes)`);
  const processesPerNode = n / nodes;
  const wantsGpus = job.experiment.gpu_ids.length > 0;
  if (gpusPerNode > 0 && !wantsGpus)
    bad('gpu_ids', `empty (run on CPU), but launch.slurm.gpus_per_node asks Slurm for ${gpusPerNode} GPU(s) per node`);
  if (gpusPerNode === 0 && wantsGpus)
    bad('gpusPerNode', 'must be > 0 when gpu_ids is set: on Slurm the GPUs come from the allocation');
  if (gpusPerNode > 0 && processesPerNode > gpusPerNode) {
    bad(
      'gpusPerNode',
      `${processesPerNode} processes per node (num_processes ${n} / ${nodes} nodes) do not fit ${gpusPerNode} GPU(s)`,
    );
  }
  const limits: number[] = [];
  if (r.timeLimit !== undefined) {
    const seconds = parseSlurmTime(r.timeLimit);
    if (seconds === undefined)
      bad(
        'timeLimit',
        `expected minutes or a Slurm time such as 2:00:00 or 1-12:00:00, got ${JSON.stringify(r.timeLimit)}`,
      );
    if (seconds !== null) limits.push(seconds);
  }
  if (job.timeoutMs !== undefined) limits.push(job.timeoutMs / 1000);
  const plan: SlurmPlan = { nodes, processesPerNode, gpusPerNode };
  if (limits.length > 0) plan.timeLimitMin = toSlurmMinutes(Math.min(...limits));
  return plan;
}

/** `%` starts a Slurm file-name pattern (`%j`...): a literal one is written `%%`. */
const slurmPath = (file: string) => file.replaceAll('%', '%%');

/** sbatch's options for one job: the output log appended to `job.logFile`, one task per node. */
export function sbatchArgs(plan: SlurmPlan, resources: SlurmResources, job: LaunchJob, jobDir: string): string[] {
  const args = [
    '--parsable',
    `--job-name=joules-${job.experiment.config_name}`,
    `--output=${slurmPath(job.logFile)}`,
    '--open-mode=append',
    `--chdir=${jobDir}`,
    `--nodes=${plan.nodes}`,
    '--ntasks-per-node=1',
    // Joules' retry policy decides what runs again, not Slurm's own requeue.
    '--no-requeue',
  ];
  if (resources.cpusPerTask !== undefined) args.push(`--cpus-per-task=${resources.cpusPerTask}`);
  if (plan.gpusPerNode > 0) args.push(`--gpus-per-node=${plan.gpusPerNode}`);
  if (resources.mem !== undefined) args.push(`--mem=${resources.mem}`);
  if (resources.partition !== undefined) args.push(`--partition=${resources.partition}`);
  if (resources.account !== undefined) args.push(`--account=${resources.account}`);
  if (resources.qos !== undefined) args.push(`--qos=${resources.qos}`);
  if (plan.timeLimitMin !== undefined) args.push(`--time=${plan.timeLimitMin}`);
  args.push(...(resources.extraArgs ?? []));
  return args;
}
