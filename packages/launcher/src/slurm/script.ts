import { DEVICE_ORDER_ENV } from '../command-lines.js';
import { SlurmError } from '../errors.js';
import type { LaunchJob } from '../launcher.js';
import type { SlurmPlan } from './resources.js';

/** The batch script's exit code when a node cannot see the job's folder (storage not shared). */
export const EXIT_NOT_SHARED = 97;
/** The batch script's exit code when the first node's address cannot be found. */
export const EXIT_NO_MAIN_ADDRESS = 98;

/** accelerate's rendezvous port: derived from the job id, so no two jobs on a node share one. */
export const PORT_FORMULA = '15000 + SLURM_JOB_ID % 15000';

const MIXED_PRECISION = { fp32: 'no', fp16: 'fp16', bf16: 'bf16' } as const;

/** Quote for POSIX shells: one single-quoted word. */
export const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export interface ScriptInput {
  plan: SlurmPlan;
  job: LaunchJob;
  accelerateBin: string;
  /** The experiment's config file, on shared storage. */
  configPath: string;
  /** Folder of this job's files (script, token, node markers), on shared storage. */
  jobDir: string;
  /** A random string written to `<jobDir>/token` before submitting: proves the nodes see that very folder. */
  token: string;
  /**
   * Engine "server" with `server.command`: the job runs this instead of accelerate, on its one node.
   * It starts the server, runs the worker against it and stops it (server/node-job.ts).
   */
  nodeJob?: { node: string; main: string; spec: string };
}

/**
 * `accelerate launch`'s arguments after `launch --machine_rank <r>`, the same on every node.
 * The world is the experiment's `num_processes` over `plan.nodes` machines. On CPU, several
 * processes need `--multi_gpu` with ACCELERATE_USE_CPU=true; GPUs come from the allocation
 * (Slurm sets CUDA_VISIBLE_DEVICES), so there is no `--gpu_ids`.
 */
export function accelerateArgs(input: ScriptInput): string[] {
  const { plan, job } = input;
  const onGpu = plan.gpusPerNode > 0;
  const n = job.experiment.num_processes;
  const args: string[] = [];
  if (n > 1) args.push('--multi_gpu');
  else if (!onGpu) args.push('--cpu');
  args.push('--num_processes', String(n), '--num_machines', String(plan.nodes));
  args.push('--mixed_precision', onGpu ? MIXED_PRECISION[job.experiment.precision] : 'no', '--dynamo_backend', 'no');
  args.push('-m', 'joules_worker', '--config', input.configPath, '--output-dir', job.outputDir);
  return args;
}

/**
 * The batch script: check every node sees the job's folder, find the first node's address,
 * then start one `accelerate launch` per node with `--machine_rank $SLURM_NODEID`.
 */
export function batchScript(input: ScriptInput): string {
  const { plan, job } = input;
  const q = shellQuote;
  const env: Record<string, string> = {
    ...DEVICE_ORDER_ENV,
    ...(plan.gpusPerNode > 0 ? {} : { ACCELERATE_USE_CPU: 'true' }),
  };
  Object.assign(env, job.env);
  const exports = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_]\w*$/.test(k))
      throw new SlurmError(`env: ${JSON.stringify(k)} is not a variable name`, 'SLURM_BAD_OPTIONS');
    return `export ${k}=${q(v)}`;
  });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash parameter expansion for the script, not a JS template
  const cpus = '${SLURM_CPUS_PER_TASK:+--cpus-per-task=$SLURM_CPUS_PER_TASK}';
  const gpus = plan.gpusPerNode > 0 ? ` --gpus-per-node=${plan.gpusPerNode}` : '';
  const step = `srun --nodes="$SLURM_JOB_NUM_NODES" --ntasks-per-node=1 --ntasks="$SLURM_JOB_NUM_NODES" ${cpus}${gpus}`;
  return [
    '#!/bin/bash',
    `# Joules experiment ${job.experiment.config_name}: one accelerate world of ${job.experiment.num_processes} process(es)`,
    `# over ${plan.nodes} node(s), ${plan.processesPerNode} per node. Written and submitted by @joules/launcher.`,
    'set -u',
    `jobdir=${q(input.jobDir)}`,
    'echo "joules: Slurm job $SLURM_JOB_ID on $SLURM_JOB_NUM_NODES node(s): $SLURM_JOB_NODELIST"',
    '',
    '# Every node must see this very folder (the token) where the config and the results are.',
    `${step} bash -c 'test "$(cat "$1/token" 2>/dev/null)" = "$2" && echo "$SLURMD_NODENAME" > "$1/seen-$SLURM_NODEID"' check "$jobdir" ${q(input.token)}`,
    'if [ $? -ne 0 ]; then',
    '  echo "joules: $jobdir is not visible from every node of this job; the results folder must be on storage all nodes share" >&2',
    `  exit ${EXIT_NOT_SHARED}`,
    'fi',
    '',
    '# The main process runs on the first node (machine rank 0); node names may not resolve: use its NodeAddr.',
    'first=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
    'main_addr=$(scontrol show node -o "$first" | sed -n \'s/.* NodeAddr=\\([^ ]*\\).*/\\1/p\')',
    `main_port=$(( ${PORT_FORMULA} ))`,
    `[ -n "$main_addr" ] || { echo "joules: no address found for node $first" >&2; exit ${EXIT_NO_MAIN_ADDRESS}; }`,
    'echo "joules: main process at $main_addr:$main_port"',
    ...exports,
    '',
    ...(input.nodeJob
      ? [
          '# Engine "server": the inference server and the worker on this node, the server stopped after.',
          `${step} --kill-on-bad-exit=1 ${[input.nodeJob.node, input.nodeJob.main, input.nodeJob.spec].map(q).join(' ')}`,
        ]
      : [
          `${step} --kill-on-bad-exit=1 bash -c 'exec "$0" launch --machine_rank "$SLURM_NODEID" --main_process_ip "$1" --main_process_port "$2" "\${@:3}"' \\`,
          `  ${q(input.accelerateBin)} "$main_addr" "$main_port" ${accelerateArgs(input).map(q).join(' ')}`,
        ]),
    '',
  ].join('\n');
}
