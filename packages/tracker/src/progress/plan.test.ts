import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { TrackerInputError } from '../errors.js';
import type { ProgressEntry } from './entry.js';
import { parseProgressKey, progressKey } from './key.js';
import { planResume } from './resume.js';
import { estimateRemaining, summarizeProgress } from './status.js';

const host = os.hostname();
const entry = (key: string, status: ProgressEntry['status'], extra: Partial<ProgressEntry> = {}): ProgressEntry => ({
  key,
  status,
  rev: 1,
  configHash: 'h',
  attempts: 1,
  createdAt: 't',
  updatedAt: 't',
  ...extra,
});
const view = (entries: ProgressEntry[]) => {
  const map = new Map(entries.map((e) => [e.key, e]));
  return { get: (k: string) => map.get(k), entries: () => map.values() };
};
// Liveness without processes: pid 1 "alive", pid 2 "dead", elsewhere unknown.
const liveness = (owner?: { pid: number; host: string }) => (owner?.host !== host ? undefined : owner.pid === 1);

describe('progressKey', () => {
  it('builds and splits model::suite::config::cycle, empty parts for null', () => {
    const key = progressKey({ model_name: 'org/llama', suite: null, config_name: 'b8', cycle_id: 3 });
    expect(key).toBe('org/llama::::b8::3');
    expect(parseProgressKey(key)).toEqual({ model: 'org/llama', suite: null, config: 'b8', cycle: 3 });
    expect(parseProgressKey('a::b::s::c::')).toEqual({ model: 'a::b', suite: 's', config: 'c', cycle: null });
  });

  it('names the field that cannot be part of a key', () => {
    expect(() => progressKey({ model_name: 'm', suite: 'a::b', config_name: 'c', cycle_id: 1 })).toThrow(/^suite:/);
    expect(() => progressKey({ model_name: 'm', suite: null, config_name: 'c', cycle_id: -1 })).toThrow(/^cycle_id:/);
  });
});

describe('planResume', () => {
  const journal = view([
    entry('done', 'done', { experimentId: '000001' }),
    entry('changed', 'done', { experimentId: '000002', configHash: 'old' }),
    entry('failed', 'failed'),
    entry('pending', 'pending'),
    entry('interrupted', 'interrupted'),
    entry('alive', 'running', { owner: { pid: 1, host } }),
    entry('dead', 'running', { owner: { pid: 2, host } }),
    entry('elsewhere', 'running', { owner: { pid: 2, host: 'other' }, job: '42' }),
    entry('gone', 'done'),
  ]);
  const items = ['new', 'done', 'changed', 'failed', 'pending', 'interrupted', 'alive', 'dead', 'elsewhere'].map(
    (key) => ({ key, configHash: 'h' }),
  );

  it('skips done keys, reruns pending/interrupted/stale, keeps failed unless asked, reports changed hashes', () => {
    const plan = planResume(journal, items, { liveness });
    expect(plan.run.map((r) => [r.key, r.reason])).toEqual([
      ['new', 'new'],
      ['pending', 'pending'],
      ['interrupted', 'interrupted'],
      ['dead', 'stale'],
    ]);
    expect(plan.done).toEqual(['done']);
    expect(plan.failed).toEqual(['failed']);
    expect(plan.changed).toEqual([
      { key: 'changed', experimentId: '000002', recordedHash: 'old', currentHash: 'h', rerun: false },
    ]);
    expect(plan.running).toEqual([
      { key: 'alive', owner: { pid: 1, host } },
      { key: 'elsewhere', owner: { pid: 2, host: 'other' }, job: '42' },
    ]);
    expect(plan.notInSuite).toEqual(['gone']);
  });

  it('reruns failed and changed keys when asked', () => {
    const plan = planResume(journal, items, { liveness, rerunFailed: true, rerunChanged: true });
    expect(plan.run.map((r) => r.key)).toEqual(['new', 'changed', 'failed', 'pending', 'interrupted', 'dead']);
    expect(plan.changed[0]?.rerun).toBe(true);
  });

  it('rejects a suite with a key twice', () => {
    expect(() =>
      planResume(journal, [
        { key: 'a', configHash: 'h' },
        { key: 'a', configHash: 'h' },
      ]),
    ).toThrow(TrackerInputError);
    expect(() =>
      planResume(journal, [
        { key: 'a', configHash: 'h' },
        { key: 'a', configHash: 'h' },
      ]),
    ).toThrow(/items\[1\]\.key/);
  });
});

describe('summarizeProgress and estimateRemaining', () => {
  const j = view([
    entry('m1::s::a::1', 'done', { startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:10Z' }),
    entry('m1::s::b::1', 'done', { startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:30Z' }),
    entry('m1::s::c::1', 'failed'),
    entry('m2::s::a::1', 'running', { owner: { pid: 2, host } }),
    entry('m2::s::b::1', 'running', { owner: { pid: 1, host } }),
    entry('m2::t::a::1', 'interrupted'),
  ]);

  it('counts per suite and model; stale is running with a dead owner', () => {
    const s = summarizeProgress(j, { liveness });
    expect(s.total).toEqual({ total: 6, done: 2, failed: 1, pending: 0, running: 1, stale: 1, interrupted: 1 });
    expect(s.groups.map((g) => [g.suite, g.model, g.counts.total])).toEqual([
      ['s', 'm1', 3],
      ['s', 'm2', 2],
      ['t', 'm2', 1],
    ]);
  });

  it('counts suite keys missing from the journal as pending', () => {
    const s = summarizeProgress(j, { liveness, keys: ['m1::s::a::1', 'm3::s::a::1'] });
    expect(s.total).toMatchObject({ total: 2, done: 1, pending: 1 });
  });

  it('estimates from past durations: same config, else same model, else all', () => {
    expect(estimateRemaining(j, ['m1::s::a::2', 'm1::s::z::1', 'm9::s::a::1'], { concurrency: 2 })).toEqual({
      seconds: (10 + 20 + 20) / 2,
      basedOn: 2,
    });
    expect(estimateRemaining(view([]), ['x'])).toEqual({ seconds: null, basedOn: 0 });
  });
});
