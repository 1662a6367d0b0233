import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CRASH_COLUMNS, crashSuite } from './__fixtures__/crash-suite.js';
import { collect, spawnFixture } from './__fixtures__/run-fixture.js';
import { FAILURE_COLUMNS } from './failure-log.js';
import { ProgressJournal } from './progress/journal.js';
import { checkExperimentFolder } from './raw/manifest.js';
import { verifyResults } from './raw/verify.js';

interface Ack {
  kind: 'ack' | 'fail';
  id: string;
  key: string;
  /** Which child printed it. */
  child: number;
}

const parseAck = (line: string, child: number): Ack | undefined => {
  const [kind, id, key] = line.split(' ');
  return (kind === 'ack' || kind === 'fail') && id && key ? { kind, id, key, child } : undefined;
};

/** Rows of a CSV; csv-parse throws if any row has another column count than the header. */
async function readRows(file: string, columns: readonly string[]): Promise<string[][]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text === '') return [];
  const rows = parse(text) as string[][];
  expect(rows[0]).toEqual(columns);
  for (const row of rows) expect(row).toHaveLength(columns.length);
  return rows.slice(1);
}

/** Check after each kill; folders of acks from `checkedUpTo` on are hashed, the older ones only looked up. */
async function checkInvariants(
  dir: string,
  acks: readonly Ack[],
  kills: number,
  checkedUpTo = 0,
): Promise<ProgressJournal> {
  const journal = await ProgressJournal.open(dir);
  const rows = await readRows(path.join(dir, 'crash_results.csv'), CRASH_COLUMNS);
  const failures = await readRows(path.join(dir, 'failed_experiments.csv'), FAILURE_COLUMNS);
  const ids = rows.map((r) => r[0]!);
  const keys = rows.map((r) => r[1]!);
  expect(new Set(ids).size, 'an experiment id twice in the CSV').toBe(ids.length);
  expect(new Set(keys).size, 'a key recorded twice in the CSV').toBe(keys.length);
  const rowById = new Map(rows.map((r) => [r[0]!, r]));
  const folders = new Set(await readdir(path.join(dir, 'raw_results')).catch(() => []));
  for (const [i, ack] of acks.entries()) {
    if (ack.kind === 'ack') {
      expect(rowById.get(ack.id)?.[1], `acknowledged ${ack.id} missing from the CSV`).toBe(ack.key);
      expect(journal.get(ack.key)).toMatchObject({ status: 'done', experimentId: ack.id });
      expect(folders.has(ack.id), `folder of ${ack.id} gone`).toBe(true);
      if (i >= checkedUpTo)
        expect((await checkExperimentFolder(path.join(dir, 'raw_results', ack.id), { hashes: true })).ok).toBe(true);
    } else {
      expect(
        failures.filter((f) => f[1] === ack.id),
        `failure ${ack.id} not logged once`,
      ).toHaveLength(1);
    }
  }
  // Ids: unique, allocated in order (each child's grow), never null; at most one lost (in flight) per kill.
  expect(new Set(acks.map((a) => a.id)).size).toBe(acks.length);
  for (const child of new Set(acks.map((a) => a.child))) {
    const own = acks.filter((a) => a.child === child).map((a) => Number(a.id));
    expect(own.every((id, i) => i === 0 || id > own[i - 1]!)).toBe(true);
  }
  const last = Number(
    (await readFile(path.join(dir, '.joules', 'last_experiment_id'), 'utf8').catch(() => '0')).trim(),
  );
  const used = new Set([...ids, ...failures.map((f) => f[1]!)].map(Number));
  expect([...used].every((id) => Number.isInteger(id) && id >= 1 && id <= last)).toBe(true);
  expect(last - used.size).toBeLessThanOrEqual(kills);
  return journal;
}

describe('crash safety (SIGKILL at random moments)', () => {
  it('keeps every acknowledged record exactly once over 50 kills, then finishes the suite', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-crash-'));
    let seed = 20_240_601;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const acks: Ack[] = [];
    const delays: number[] = [];
    for (let round = 1; round <= 50; round++) {
      const child = spawnFixture('crash-child.ts', [dir]);
      const delay = 20 + Math.floor(random() * 180);
      delays.push(delay);
      const done = collect(child, (line) => {
        if (line === 'loaded') setTimeout(() => child.kill('SIGKILL'), delay);
        const ack = parseAck(line, round);
        if (ack) acks.push(ack);
      });
      const checkedUpTo = acks.length;
      const { signal, stderr } = await done;
      expect(signal, `round ${round} (kill after ${delay} ms) ended without being killed: ${stderr}`).toBe('SIGKILL');
      await checkInvariants(dir, acks, round, checkedUpTo);
    }
    expect(acks.filter((a) => a.kind === 'ack').length).toBeGreaterThan(0);

    // Resume without kills: two children at once sharing the suite, then one more (keys that
    // failed their first attempt there run again): the whole suite ends done, each key once.
    for (const children of [[51, 52], [53]]) {
      const runs = await Promise.all(
        children.map((n) =>
          collect(spawnFixture('crash-child.ts', [dir]), (line) => {
            const ack = parseAck(line, n);
            if (ack) acks.push(ack);
          }),
        ),
      );
      for (const run of runs) expect(run.lines.at(-1), run.stderr).toBe('complete');
    }
    const journal = await checkInvariants(dir, acks, 50);
    const suite = crashSuite();
    const rows = await readRows(path.join(dir, 'crash_results.csv'), CRASH_COLUMNS);
    expect(rows).toHaveLength(suite.length);
    for (const item of suite) {
      const entry = journal.get(item.key);
      expect(entry?.status).toBe('done');
      expect(rows.find((r) => r[1] === item.key)?.[0]).toBe(entry?.experimentId);
    }
    // No marker left (temp files of killed writers may be: they are swept once 10 minutes old).
    expect((await readdir(path.join(dir, '.joules', 'pending'))).filter((n) => !n.endsWith('.tmp'))).toEqual([]);
    expect(await readdir(path.join(dir, '.joules', 'staging'))).toEqual([]);
    const verified = await verifyResults(dir, { hashes: true });
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(suite.length);
    await rm(dir, { recursive: true, force: true });
  }, 240_000);
});
