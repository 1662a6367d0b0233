import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Who holds a lock or runs an experiment: pid and host, plus (on Linux) the boot id and the
 * process start time, so that a pid reused after the owner died, or after a reboot, is not
 * mistaken for the owner.
 */
export interface ProcessOwner {
  pid: number;
  host: string;
  /** `<boot id, first 8 hex>:<start ticks>` from /proc; absent where /proc is not there. */
  start?: string;
}

function readStart(pid: number | 'self'): string | undefined | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No such process (null) versus no /proc on this system (undefined).
    return code === 'ENOENT' || code === 'ESRCH' ? (pid === 'self' ? undefined : null) : undefined;
  }
  // Field 22 (starttime) counted after the ")" closing the command name, which may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // A zombie (killed, not yet reaped by its parent) is dead for our purposes.
  if (pid !== 'self' && (fields[0] === 'Z' || fields[0] === 'X')) return null;
  const ticks = fields[19];
  if (!ticks) return undefined;
  return `${bootId()}:${ticks}`;
}

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
    } catch {
      cachedBootId = '';
    }
  }
  return cachedBootId;
}

let self: ProcessOwner | undefined;

/** This process as an owner (computed once per process). */
export function currentOwner(): ProcessOwner {
  if (!self || self.pid !== process.pid) {
    const start = readStart('self');
    self = { pid: process.pid, host: os.hostname(), ...(start && { start }) };
  }
  return self;
}

/**
 * Whether an owner process still runs: true or false on this host, undefined when it cannot be
 * told (another host, or nothing recorded).
 */
export function ownerAlive(owner: ProcessOwner | undefined): boolean | undefined {
  if (!owner || !Number.isInteger(owner.pid) || owner.pid <= 0) return undefined;
  const me = currentOwner();
  if (owner.host !== me.host) return undefined;
  if (owner.pid === me.pid) return owner.start === undefined || me.start === undefined || owner.start === me.start;
  const start = readStart(owner.pid);
  if (start === null) return false;
  if (start !== undefined && owner.start !== undefined) return start === owner.start;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A ProcessOwner read back from JSON, or undefined when the value is not one. */
export function asOwner(value: unknown): ProcessOwner | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { pid, host, start } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || typeof host !== 'string') return undefined;
  return { pid, host, ...(typeof start === 'string' && { start }) };
}

/**
 * Tells whether the owner of a lock, pending experiment or running progress entry still runs:
 * true, false, or undefined when it cannot be told (then it is left alone). A Slurm launcher
 * can pass one that asks the scheduler about `job`.
 */
export type Liveness = (owner: ProcessOwner | undefined, job?: string) => boolean | undefined;

export const defaultLiveness: Liveness = (owner) => ownerAlive(owner);
