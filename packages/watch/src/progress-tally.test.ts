import { estimateRemaining, type ProgressEntry, summarizeProgress } from '@joules/tracker';
import { describe, expect, it } from 'vitest';
import { ProgressTally } from './progress-tally.js';
import type { ResultRow } from './result-row.js';

const t0 = Date.parse('2026-11-01T00:00:00Z');
const iso = (s: number) => new Date(t0 + s * 1000).toISOString();
function entry(i: number, status: ProgressEntry['status'], rev = 1): ProgressEntry {
  const key = `org/m${i % 3}::suite::cfg-${i % 7}::${i}`;
  const times =
    status === 'done' || status === 'failed' ? { startedAt: iso(i), finishedAt: iso(i + 10 + (i % 5) * 7) } : {};
  return { key, status, rev, configHash: 'h', attempts: 1, createdAt: iso(0), updatedAt: iso(i), ...times };
}
const row = (model: string, config: string, cycle: number | null, suite: string | null = null): ResultRow => ({
  id: `${model}-${config}-${cycle}`,
  suite,
  model,
  config,
  cycle,
  perToken: 1,
  totalJ: 2,
  seconds: 3,
});

describe('ProgressTally', () => {
  it('counts and estimates as summarizeProgress and estimateRemaining do, one change at a time', () => {
    const statuses = ['pending', 'done', 'failed', 'done', 'interrupted', 'done'] as const;
    const tally = new ProgressTally();
    const byKey = new Map<string, ProgressEntry>();
    const apply = (e: ProgressEntry) => {
      byKey.set(e.key, e);
      tally.applyEntry(e);
    };
    for (let i = 0; i < 120; i++) apply(entry(i, statuses[i % statuses.length]!));
    for (let i = 0; i < 120; i += 4) apply(entry(i, 'done', 2)); // some change status
    const view = { get: (k: string) => byKey.get(k), entries: () => byKey.values() };
    const remaining = [...byKey.values()].filter((e) => e.status !== 'done' && e.status !== 'failed').map((e) => e.key);
    const { eta, ...summary } = tally.summary();
    expect(summary).toEqual(summarizeProgress(view));
    const expected = estimateRemaining(view, remaining);
    expect(eta.basedOn).toBe(expected.basedOn);
    expect(eta.seconds).toBeCloseTo(expected.seconds!, 6);
    expect(tally.applyEntry(byKey.get(entry(0, 'done').key)!)).toBe(false); // the same entry again: nothing changes
  });

  it('counts rows and final failures the journal does not know, until it knows them', () => {
    const tally = new ProgressTally();
    tally.addResult(row('org/a', 'c1', null));
    tally.addResult(row('org/a', 'c1', null)); // `joules run` twice: two experiments
    tally.addResult(row('org/b', 'c2', 1, 'suite'));
    const failure = {
      timestamp: '',
      experimentId: '7',
      configName: 'c3',
      modelName: 'org/a',
      attempt: 1,
      kind: 'oom',
      message: '',
    };
    tally.addFailure({ ...failure, final: false }); // retried: not an experiment's end
    tally.addFailure({ ...failure, final: true });
    tally.addFailure({ ...failure, final: true }); // the same experiment
    expect(tally.summary().total).toMatchObject({ total: 4, done: 3, failed: 1 });
    expect(tally.summary().groups.map((g) => [g.suite, g.model, g.counts.total])).toEqual([
      [null, 'org/a', 3],
      ['suite', 'org/b', 1],
    ]);

    const key = 'org/b::suite::c2::1';
    tally.applyEntry({
      key,
      status: 'done',
      rev: 3,
      configHash: 'h',
      attempts: 1,
      createdAt: iso(0),
      updatedAt: iso(0),
    });
    tally.applyEntry({ ...entry(1, 'failed'), key: 'org/a::suite::c3::1' });
    tally.addResult(row('org/b', 'c2', 1, 'suite')); // now journaled: counted once, by the journal
    expect(tally.summary().total).toMatchObject({ total: 4, done: 3, failed: 1 });
  });
});
