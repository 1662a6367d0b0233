import { asOwner, type ProcessOwner } from '../owner.js';

export const PROGRESS_STATUSES = ['pending', 'running', 'done', 'failed', 'interrupted'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

/** The state of one progress key. Each journal line is a whole entry; the highest `rev` wins. */
export interface ProgressEntry {
  key: string;
  status: ProgressStatus;
  /** 1 for the key's first record, +1 on each update. */
  rev: number;
  /** Hash of the experiment's config when last registered or started. */
  configHash: string;
  /** Id of the latest attempt (absent while pending). */
  experimentId?: string;
  /** Attempts started so far. */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** Start and end of the latest attempt (ISO). */
  startedAt?: string;
  finishedAt?: string;
  /** The process that ran (or runs) the latest attempt. */
  owner?: ProcessOwner;
  /** Free-form scheduler handle of the latest attempt, e.g. a Slurm job id. */
  job?: string;
  /** Last failure message. */
  error?: string;
  /** What changed the entry when it was not its owner (e.g. recovery after a crash). */
  note?: string;
}

const STATUSES = new Set<string>(PROGRESS_STATUSES);
const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
const OPTIONAL_STRINGS = ['experimentId', 'startedAt', 'finishedAt', 'job', 'error', 'note'] as const;

/** A journal line's value as an entry, or undefined when it is not one. */
export function toEntry(value: unknown): ProgressEntry | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.key !== 'string' || typeof v.status !== 'string' || !STATUSES.has(v.status)) return undefined;
  if (!Number.isInteger(v.rev) || !Number.isInteger(v.attempts) || typeof v.configHash !== 'string') return undefined;
  if (typeof v.createdAt !== 'string' || typeof v.updatedAt !== 'string') return undefined;
  for (const f of OPTIONAL_STRINGS) if (!optionalString(v[f])) return undefined;
  if (v.owner !== undefined && !asOwner(v.owner)) return undefined;
  return v as unknown as ProgressEntry;
}
