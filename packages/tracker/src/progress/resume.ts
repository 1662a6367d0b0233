import { TrackerInputError } from '../errors.js';
import { defaultLiveness, type Liveness, type ProcessOwner } from '../owner.js';
import type { ProgressEntry } from './entry.js';

/** One experiment of the suite as it is expanded now. */
export interface SuiteItem {
  key: string;
  configHash: string;
}

export type RunReason = 'new' | 'pending' | 'interrupted' | 'stale' | 'failed' | 'changed';

export interface ResumePlan {
  /** What to run, in suite order, with why. */
  run: Array<SuiteItem & { reason: RunReason; previous?: ProgressEntry }>;
  /** Done with the same config hash: skipped. */
  done: string[];
  /** Done with a different config hash than the suite gives now (rerun only with `rerunChanged`). */
  changed: Array<{ key: string; experimentId?: string; recordedHash: string; currentHash: string; rerun: boolean }>;
  /** Failed, and not rerun (no `rerunFailed`). */
  failed: string[];
  /** Running in a live process (or one that cannot be checked, e.g. on another host): skipped. */
  running: Array<{ key: string; experimentId?: string; owner?: ProcessOwner; job?: string }>;
  /** Keys in the journal the suite no longer has. */
  notInSuite: string[];
}

export interface PlanOptions {
  rerunFailed?: boolean;
  rerunChanged?: boolean;
  liveness?: Liveness;
}

export interface ProgressView {
  get(key: string): ProgressEntry | undefined;
  entries(): Iterable<ProgressEntry>;
}

/** `running` whose owner is known dead reads as `stale`. */
export function effectiveStatus(
  entry: ProgressEntry,
  liveness: Liveness = defaultLiveness,
): ProgressEntry['status'] | 'stale' {
  return entry.status === 'running' && liveness(entry.owner, entry.job) === false ? 'stale' : entry.status;
}

/**
 * Decide what a resumed suite runs: done keys are skipped; pending, interrupted and stale ones
 * (running, owner dead) run; failed ones only with `rerunFailed`; a key done under another
 * config hash is reported in `changed` and rerun only with `rerunChanged`.
 */
export function planResume(progress: ProgressView, items: readonly SuiteItem[], options: PlanOptions = {}): ResumePlan {
  const liveness = options.liveness ?? defaultLiveness;
  const plan: ResumePlan = { run: [], done: [], changed: [], failed: [], running: [], notInSuite: [] };
  const keys = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (typeof item.key !== 'string' || item.key === '')
      throw new TrackerInputError(`items[${i}].key: must be a non-empty string`);
    if (typeof item.configHash !== 'string' || item.configHash === '')
      throw new TrackerInputError(`items[${i}].configHash: must be a non-empty string (${item.key})`);
    if (keys.has(item.key)) throw new TrackerInputError(`items[${i}].key: "${item.key}" appears twice in the suite`);
    keys.add(item.key);
    const entry = progress.get(item.key);
    const run = (reason: RunReason) => plan.run.push({ ...item, reason, ...(entry && { previous: entry }) });
    if (!entry) {
      run('new');
      continue;
    }
    const status = effectiveStatus(entry, liveness);
    switch (status) {
      case 'pending':
      case 'interrupted':
      case 'stale':
        run(status);
        break;
      case 'running':
        plan.running.push({ key: item.key, ...pick(entry) });
        break;
      case 'failed':
        if (options.rerunFailed) run('failed');
        else plan.failed.push(item.key);
        break;
      case 'done':
        if (entry.configHash === item.configHash) {
          plan.done.push(item.key);
          break;
        }
        plan.changed.push({
          key: item.key,
          recordedHash: entry.configHash,
          currentHash: item.configHash,
          rerun: !!options.rerunChanged,
          ...(entry.experimentId && { experimentId: entry.experimentId }),
        });
        if (options.rerunChanged) run('changed');
    }
  }
  for (const entry of progress.entries()) if (!keys.has(entry.key)) plan.notInSuite.push(entry.key);
  return plan;
}

const pick = (e: ProgressEntry) => ({
  ...(e.experimentId && { experimentId: e.experimentId }),
  ...(e.owner && { owner: e.owner }),
  ...(e.job && { job: e.job }),
});
