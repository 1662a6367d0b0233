import { TrackerInputError } from '../errors.js';
import { currentOwner } from '../owner.js';
import type { ProgressEntry } from './entry.js';

// The journal's entries as each update makes them: pure, the journal appends what they return.

const MAX_ERROR_CHARS = 2_000;

/** A key and config hash as callers give them: both non-empty strings (else TrackerInputError naming `where`). */
export function checkItem(item: { key: string; configHash: string }, where: string): void {
  if (typeof item.key !== 'string' || item.key === '')
    throw new TrackerInputError(`${where}.key: must be a non-empty string`);
  if (typeof item.configHash !== 'string' || item.configHash === '')
    throw new TrackerInputError(`${where}.configHash: must be a non-empty string (${item.key})`);
}

/** Entries for keys not in the journal yet (pending), and pending ones whose config hash moved; each key once. */
export function pendingEntries(
  entries: ReadonlyMap<string, ProgressEntry>,
  items: readonly { key: string; configHash: string }[],
  t: string,
): ProgressEntry[] {
  const seen = new Set<string>();
  const write: ProgressEntry[] = [];
  for (const { key, configHash } of items) {
    if (seen.has(key)) continue;
    seen.add(key);
    const current = entries.get(key);
    if (!current) write.push({ key, status: 'pending', rev: 1, configHash, attempts: 0, createdAt: t, updatedAt: t });
    else if (current.status === 'pending' && current.configHash !== configHash)
      write.push({ ...current, rev: current.rev + 1, configHash, updatedAt: t });
  }
  return write;
}

/** A key running for this process as `experimentId`: one more attempt. */
export function startedEntry(
  key: string,
  current: ProgressEntry | undefined,
  start: { configHash: string; experimentId: string; job?: string },
  t: string,
): ProgressEntry {
  return {
    key,
    status: 'running',
    rev: (current?.rev ?? 0) + 1,
    configHash: start.configHash,
    experimentId: start.experimentId,
    attempts: (current?.attempts ?? 0) + 1,
    createdAt: current?.createdAt ?? t,
    updatedAt: t,
    startedAt: t,
    owner: currentOwner(),
    ...(start.job !== undefined && { job: start.job }),
  };
}

/** A running entry ended (an earlier error or note dropped; the error cut to 2,000 characters). */
export function finishedEntry(
  current: ProgressEntry,
  status: 'done' | 'failed' | 'interrupted',
  details: { error?: string; note?: string },
  t: string,
): ProgressEntry {
  const { error: _e, note: _n, ...rest } = current;
  return {
    ...rest,
    status,
    rev: current.rev + 1,
    updatedAt: t,
    finishedAt: t,
    ...(details.error !== undefined && { error: details.error.slice(0, MAX_ERROR_CHARS) }),
    ...(details.note !== undefined && { note: details.note }),
  };
}
