import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { collect, spawnFixture } from './__fixtures__/run-fixture.js';
import { ProgressJournal } from './progress/journal.js';
import { verifyResults } from './raw/verify.js';

describe('several processes writing one results folder at once', () => {
  it('allocates unique, consecutive ids and keeps every CSV row and journal entry whole', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-conc-'));
    const writers = ['wa', 'wb', 'wc', 'wd'];
    const perWriter = 30;
    const runs = await Promise.all(
      writers.map((name) => collect(spawnFixture('concurrent-writer.ts', [dir, name, String(perWriter)]))),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);

    const total = writers.length * perWriter;
    const printed = runs.flatMap((r, w) =>
      r.lines.map((line) => ({ writer: writers[w]!, id: line.split(' ')[0]!, key: line.split(' ')[1]! })),
    );
    expect(printed).toHaveLength(total);
    const ids = printed.map((p) => p.id).sort();
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => String(i + 1).padStart(6, '0')));
    for (const run of runs) {
      const own = run.lines.map((l) => Number(l.split(' ')[0]));
      expect(own.every((id, i) => i === 0 || id > own[i - 1]!)).toBe(true);
    }

    const rows = parse(await readFile(path.join(dir, 'conc_results.csv'), 'utf8'), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.experiment_id)).size).toBe(total);
    for (const row of rows) expect(row.payload).toBe(`${row.writer}:`.padEnd(6000, row.writer!.slice(-1)));
    expect(rows.map((r) => r.experiment_id).sort()).toEqual(ids);

    const journal = await ProgressJournal.open(dir);
    const journaled = printed.filter((p) => p.key !== '-');
    expect(journal.size).toBe(journaled.length);
    for (const p of journaled)
      expect(journal.get(p.key)).toMatchObject({ status: 'done', experimentId: p.id, attempts: 1 });
    expect(journal.health).toMatchObject({ badLines: 0, tornBytes: 0 });
    expect((await verifyResults(dir, { hashes: true })).ok).toBe(journaled.length);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});
