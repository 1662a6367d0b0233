import { mkdir, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configHash, type Experiment } from '@joules/config';
import { readWorkerErrors, type WorkerErrorFile } from '@joules/launcher';
import type { RawMeasurement } from '@joules/metrics';
import { resultsLayout, writeJsonAtomic } from '@joules/tracker';

// Several machines started by hand (launch.machines): machine 0 announces the experiment id in a
// small file in the shared results folder; the others wait for it and launch into the same work folder.

/** How long one machine waits for the others: `JOULES_MACHINES_WAIT_S`, default 600 s. */
export function machinesWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.JOULES_MACHINES_WAIT_S);
  return (Number.isFinite(s) && s > 0 ? s : 600) * 1000;
}

export const isMultiMachine = (e: Experiment): boolean => e.launch.machines.num_machines > 1;

/** The ranks of machine `machine_rank` (accelerate numbers them machine by machine). */
export function localRanks(e: Experiment): number[] {
  const { num_machines: machines, machine_rank: rank } = e.launch.machines;
  const per = e.num_processes / machines;
  return Array.from({ length: per }, (_, i) => rank * per + i);
}

/**
 * The announcement file of one world: the same name on every machine (the config hash with
 * machine_rank 0, and the rendezvous port), under `<results>/.joules/machines/`.
 */
export function rendezvousFile(resultsDir: string, e: Experiment): string {
  const m = e.launch.machines;
  const shared = { ...e, launch: { ...e.launch, machines: { ...m, machine_rank: 0 } } };
  return path.join(resultsLayout(resultsDir).stateDir, 'machines', `${configHash(shared)}-${m.main_process_port}.json`);
}

/** What machine 0 writes for the others. */
export interface Rendezvous {
  experiment_id: string;
  num_machines: number;
  num_processes: number;
  main_process_ip: string;
  main_process_port: number;
  host: string;
  pid: number;
  written_at: string;
}

export async function announce(file: string, experimentId: string, e: Experiment): Promise<Rendezvous> {
  const m = e.launch.machines;
  const rv: Rendezvous = {
    experiment_id: experimentId,
    num_machines: m.num_machines,
    num_processes: e.num_processes,
    main_process_ip: m.main_process_ip ?? '',
    main_process_port: m.main_process_port ?? 0,
    host: os.hostname(),
    pid: process.pid,
    written_at: new Date().toISOString(),
  };
  await mkdir(path.dirname(file), { recursive: true });
  await writeJsonAtomic(file, rv);
  return rv;
}

async function readRendezvous(file: string): Promise<Rendezvous | undefined> {
  try {
    const rv = JSON.parse(await readFile(file, 'utf8')) as Partial<Rendezvous>;
    return typeof rv.experiment_id === 'string' && /^\d+$/.test(rv.experiment_id) ? (rv as Rendezvous) : undefined;
  } catch {
    return undefined; // not there yet
  }
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  pollMs?: number;
}

async function poll<T>(probe: () => Promise<T | undefined>, o: WaitOptions): Promise<T | 'timeout' | 'aborted'> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted) return 'aborted';
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return 'timeout';
    await sleep(o.pollMs ?? 250, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
  }
}

/** A machine with rank > 0 waits for machine 0's announcement. */
export const awaitRendezvous = (file: string, o: WaitOptions) => poll(() => readRendezvous(file), o);

export type WorldFiles = { files: string[] } | { errors: WorkerErrorFile[] };

/** Machine 0, after its own ranks ended: wait until every rank of the world wrote its file (or an error). */
export function awaitWorld(outputDir: string, n: number, o: WaitOptions): Promise<WorldFiles | 'timeout' | 'aborted'> {
  return poll(async (): Promise<WorldFiles | undefined> => {
    const errors = await readWorkerErrors(outputDir);
    if (errors.length > 0) return { errors };
    const names = new Set(await readdir(outputDir).catch(() => [] as string[]));
    const files = Array.from({ length: n }, (_, r) => `rank-${r}.json`);
    return files.every((f) => names.has(f)) ? { files: files.map((f) => path.join(outputDir, f)) } : undefined;
  }, o);
}

/** Present ranks that are not one world of `n`: ranks 0..n-1, each with world_size n. */
export function worldProblem(
  ranks: readonly Pick<RawMeasurement, 'rank' | 'world_size'>[],
  n: number,
): string | undefined {
  const seen = ranks.map((r) => r.rank).sort((a, b) => a - b);
  if (seen.join(',') !== Array.from({ length: n }, (_, i) => i).join(',')) {
    return `expected ranks 0..${n - 1} of one world, got ${seen.join(', ') || 'none'}`;
  }
  const wrong = ranks.find((r) => r.world_size !== n);
  return wrong
    ? `rank ${wrong.rank} ran in a world of ${wrong.world_size}, not ${n} (the machines did not form one world)`
    : undefined;
}
