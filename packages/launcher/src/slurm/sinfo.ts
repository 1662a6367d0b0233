import { SlurmError } from '../errors.js';
import { type SlurmClient, slurmCommand } from './slurm-cli.js';

/** GPUs of one kind a group of nodes offers (from GRES such as `gpu:a100:4`). */
export interface SlurmGpus {
  /** `a100`, or null when GRES names no type (`gpu:4`). */
  type: string | null;
  perNode: number;
  nodes: number;
}

/** One partition as sinfo describes it. */
export interface SlurmPartition {
  name: string;
  isDefault: boolean;
  /** `up` (sinfo's availability column). */
  up: boolean;
  nodes: { allocated: number; idle: number; other: number; total: number };
  /** CPUs per node, each distinct value once. */
  cpusPerNode: number[];
  /** Memory per node in MB, each distinct value once. */
  memoryMbPerNode: number[];
  gpus: SlurmGpus[];
  /** The partition's time limit as Slurm writes it (`infinite`, `2-00:00:00`). */
  timeLimit: string;
}

export type SlurmStatus = { reachable: true; partitions: SlurmPartition[] } | { reachable: false; reason: string };

/** The columns asked of sinfo, in order: partition, availability, nodes A/I/O/T, CPUs, GRES, time limit, memory. */
export const SINFO_FORMAT = '%P|%a|%F|%c|%G|%l|%m';

/** `gpu:a100:4(S:0-1),gpu:2,shard:8` → the GPU entries. */
export function parseGres(gres: string): { type: string | null; count: number }[] {
  return gres
    .split(',')
    .map((entry) => /^gpu(?::([^:(]+))?:(\d+)/.exec(entry.trim()))
    .flatMap((m) => (m ? [{ type: m[1] ?? null, count: Number(m[2]) }] : []));
}

const addOnce = (list: number[], value: number) => Number.isFinite(value) && !list.includes(value) && list.push(value);

/** Lines of `sinfo --noheader --format=<SINFO_FORMAT>` (one per partition and node group) → partitions. */
export function parseSinfo(text: string): SlurmPartition[] {
  const byName = new Map<string, SlurmPartition>();
  for (const line of text.split('\n')) {
    const [rawName, avail, counts, cpus, gres, timeLimit, memory] = line.trim().split('|');
    if (!rawName || counts === undefined) continue;
    const name = rawName.replace(/\*$/, '');
    const p = byName.get(name) ?? {
      name,
      isDefault: rawName.endsWith('*'),
      up: avail === 'up',
      cpusPerNode: [],
      memoryMbPerNode: [],
      gpus: [],
      nodes: { allocated: 0, idle: 0, other: 0, total: 0 },
      timeLimit: timeLimit ?? '',
    };
    const [a = 0, i = 0, o = 0, t = 0] = counts.split('/').map(Number);
    p.nodes.allocated += a;
    p.nodes.idle += i;
    p.nodes.other += o;
    p.nodes.total += t;
    addOnce(p.cpusPerNode, Number.parseInt(cpus ?? '', 10));
    addOnce(p.memoryMbPerNode, Number.parseInt(memory ?? '', 10));
    for (const g of parseGres(gres ?? '')) p.gpus.push({ type: g.type, perNode: g.count, nodes: t });
    byName.set(name, p);
  }
  return [...byName.values()];
}

/** Whether Slurm answers here, and what its partitions offer (for `joules doctor`). Never throws. */
export async function slurmStatus(client: SlurmClient = {}): Promise<SlurmStatus> {
  try {
    const r = await slurmCommand(client, 'sinfo', ['--noheader', `--format=${SINFO_FORMAT}`]);
    if (r.exitCode !== 0)
      return { reachable: false, reason: r.stderr.trim() || `sinfo exited with code ${r.exitCode}` };
    return { reachable: true, partitions: parseSinfo(r.stdout) };
  } catch (error) {
    if (error instanceof SlurmError) return { reachable: false, reason: error.message };
    throw error;
  }
}
