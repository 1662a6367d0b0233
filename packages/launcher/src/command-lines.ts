import type { Experiment } from '@joules/config';
import type { CommandLine } from './launcher.js';

const MIXED_PRECISION: Record<Experiment['precision'], string> = { fp32: 'no', fp16: 'fp16', bf16: 'bf16' };

/**
 * CUDA numbers GPUs fastest-first by default, NVML (and nvidia-smi, and Slurm) by PCI bus: with
 * PCI_BUS_ID both agree, so `gpu_ids` and the energy readers name the same devices.
 */
export const DEVICE_ORDER_ENV = { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' } as const;

const workerArgs = (configPath: string, outputDir: string) => [
  '-m',
  'joules_worker',
  '--config',
  configPath,
  '--output-dir',
  outputDir,
];

/**
 * `accelerate launch` for one experiment. On CPU several processes need `--multi_gpu` with
 * ACCELERATE_USE_CPU=true (`--cpu --num_processes 2` silently runs one process); on GPUs the
 * processes are pinned with `--gpu_ids` (accelerate sets the ranks' CUDA_VISIBLE_DEVICES from it)
 * and accelerate itself sees only those GPUs too. Each launch gets its own `--main_process_port`.
 *
 * Several machines (`launch.machines.num_machines` > 1): this is machine `machine_rank`'s share.
 * `--num_processes` stays the whole world (accelerate divides it by `--num_machines`), `--gpu_ids`
 * are this machine's GPUs, and the port is the configured one (every machine must name the same),
 * never `port`.
 */
export function accelerateCommand(
  accelerateBin: string,
  experiment: Experiment,
  configPath: string,
  outputDir: string,
  port: number,
): CommandLine {
  const n = experiment.num_processes;
  const m = experiment.launch.machines;
  const machines = m.num_machines;
  const local = machines > 1 ? Math.ceil(n / machines) : n;
  const onGpu = experiment.gpu_ids.length > 0;
  const gpus = experiment.gpu_ids.slice(0, local).join(',');
  const args = ['launch'];
  if (n > 1) args.push('--multi_gpu');
  else if (!onGpu) args.push('--cpu');
  args.push('--num_processes', String(n), '--num_machines', String(machines));
  if (machines > 1) {
    if (m.main_process_ip === null || m.main_process_port === null) {
      throw new RangeError('launch.machines: main_process_ip and main_process_port are required when num_machines > 1');
    }
    args.push('--machine_rank', String(m.machine_rank), '--main_process_ip', m.main_process_ip);
  }
  if (onGpu) args.push('--gpu_ids', gpus);
  args.push('--mixed_precision', onGpu ? MIXED_PRECISION[experiment.precision] : 'no', '--dynamo_backend', 'no');
  args.push('--main_process_port', String(machines > 1 ? m.main_process_port : port));
  args.push(...workerArgs(configPath, outputDir));
  const env: Record<string, string> = {
    ...DEVICE_ORDER_ENV,
    ...(onGpu ? { CUDA_VISIBLE_DEVICES: gpus } : { ACCELERATE_USE_CPU: 'true' }),
  };
  return { file: accelerateBin, args, env };
}

/** A single worker process without accelerate (one process only). */
export function pythonCommand(
  pythonBin: string,
  experiment: Experiment,
  configPath: string,
  outputDir: string,
): CommandLine {
  const env: Record<string, string> = { ...DEVICE_ORDER_ENV };
  if (experiment.gpu_ids.length > 0) env.CUDA_VISIBLE_DEVICES = String(experiment.gpu_ids[0]);
  return { file: pythonBin, args: workerArgs(configPath, outputDir), env };
}

const SAFE = /^[\w@%+=:,./-]+$/;
const quote = (s: string) => (SAFE.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** A command line as one shell-quoted string, its extra environment first (for logs and dry runs). */
export function formatCommandLine(cmd: CommandLine): string {
  const env = Object.entries(cmd.env).map(([k, v]) => `${k}=${quote(v)}`);
  return [...env, quote(cmd.file), ...cmd.args.map(quote)].join(' ');
}
