import { appendFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, spawnFixture } from '../__fixtures__/run-fixture.js';
import { ProgressStateError, ResultsFileError } from '../errors.js';
import { ProgressJournal } from './journal.js';
import { planResume } from './resume.js';
import { resumeSuite } from './resume-suite.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-journal-'));
const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean);

describe('ProgressJournal', () => {
  it('records start → finish with sequential ids and reads it back', async () => {
    const dir = await tmp();
    const j = await ProgressJournal.open(dir);
    expect(
      await j.register([
        { key: 'm::s::a::1', configHash: 'h' },
        { key: 'm::s::b::1', configHash: 'h' },
      ]),
    ).toBe(2);
    const a = await j.start('m::s::a::1', { configHash: 'h', job: 'slurm-17' });
    const b = await j.start('m::s::b::1', { configHash: 'h' });
    expect(a.started && a.entry.experimentId).toBe('000001');
    expect(b.started && b.entry.experimentId).toBe('000002');
    await j.finish('m::s::a::1', '000001', 'done');
    await j.finish('m::s::b::1', '000002', 'failed', { error: 'CUDA out of memory' });

    const again = await ProgressJournal.open(dir);
    expect(again.get('m::s::a::1')).toMatchObject({
      status: 'done',
      experimentId: '000001',
      attempts: 1,
      job: 'slurm-17',
      owner: { pid: process.pid },
    });
    expect(again.get('m::s::b::1')).toMatchObject({ status: 'failed', error: 'CUDA out of memory' });
    expect(again.get('m::s::a::1')?.finishedAt).toBeTypeOf('string');
    // One line per update, after a header line.
    expect(await lines(j.file)).toHaveLength(1 + 2 + 4); // header, 2 registered, 4 updates
  });

  it('refuses to start a key done, or running in a live process; force restarts', async () => {
    const j = await ProgressJournal.open(await tmp());
    const first = await j.start('k::::c::', { configHash: 'h' });
    expect(await j.start('k::::c::', { configHash: 'h' })).toMatchObject({ started: false, reason: 'running' });
    await j.finish('k::::c::', first.entry.experimentId!, 'done');
    expect(await j.start('k::::c::', { configHash: 'h' })).toMatchObject({ started: false, reason: 'done' });
    const forced = await j.start('k::::c::', { configHash: 'h2', force: true });
    expect(forced).toMatchObject({ started: true, entry: { attempts: 2, configHash: 'h2', experimentId: '000002' } });
  });

  it('refuses to finish an attempt another process took over', async () => {
    const j = await ProgressJournal.open(await tmp());
    await j.start('k', { configHash: 'h', experimentId: '000007' });
    await expect(j.finish('k', '000006', 'done')).rejects.toBeInstanceOf(ProgressStateError);
    await expect(j.finish('other', '000007', 'done')).rejects.toThrow(/other: is not in the journal, not running/);
  });

  it('ignores a torn last line, then cuts it before the next append', async () => {
    const dir = await tmp();
    const j = await ProgressJournal.open(dir);
    await j.register([{ key: 'a', configHash: 'h' }]);
    await appendFile(j.file, '{"key":"b","status":"pen');
    const reader = await ProgressJournal.open(dir);
    expect(reader.size).toBe(1);
    expect(reader.health.tornBytes).toBeGreaterThan(0);
    await reader.register([{ key: 'c', configHash: 'h' }]);
    for (const line of await lines(j.file)) expect(() => JSON.parse(line)).not.toThrow();
    expect([...(await ProgressJournal.open(dir)).entries()].map((e) => e.key).sort()).toEqual(['a', 'c']);
  });

  it('skips a corrupt line in the middle and counts it', async () => {
    const dir = await tmp();
    const j = await ProgressJournal.open(dir);
    await j.register([{ key: 'a', configHash: 'h' }]);
    await appendFile(j.file, 'garbage\n{"key":"x"}\n');
    await j.register([{ key: 'b', configHash: 'h' }]);
    const again = await ProgressJournal.open(dir);
    expect(again.size).toBe(2);
    expect(again.health.badLines).toBe(2);
  });

  it('refuses a journal written by a newer version', async () => {
    const dir = await tmp();
    await mkdir(path.join(dir, '.joules'));
    await writeFile(path.join(dir, '.joules', 'progress.jsonl'), '{"format":"joules-progress","version":99}\n');
    await expect(ProgressJournal.open(dir)).rejects.toBeInstanceOf(ResultsFileError);
  });

  it('compacts when superseded lines pile up, keeping the state; other instances follow', async () => {
    const dir = await tmp();
    const options = { compactMinRecords: 20, compactRatio: 3 };
    const a = await ProgressJournal.open(dir, options);
    const b = await ProgressJournal.open(dir, options);
    const keys = ['k1', 'k2', 'k3', 'k4'];
    await a.register(keys.map((key) => ({ key, configHash: 'h' })));
    let maxLines = 0;
    for (let round = 0; round < 10; round++) {
      for (const key of keys) {
        const writer = round % 2 === 0 ? a : b;
        const s = await writer.start(key, { configHash: 'h', force: true, experimentId: String(round + 1) });
        expect(s.started).toBe(true);
        await (round % 2 === 0 ? b : a).finish(key, String(round + 1), 'done');
      }
      maxLines = Math.max(maxLines, (await lines(a.file)).length);
    }
    expect(maxLines).toBeLessThanOrEqual(1 + 20);
    const fresh = await ProgressJournal.open(dir);
    for (const j of [a, b, fresh]) {
      await j.refresh();
      expect(j.size).toBe(4);
      for (const key of keys) expect(j.get(key)).toMatchObject({ status: 'done', experimentId: '10', attempts: 10 });
    }
    // An explicit compaction leaves one line per key.
    await a.compact();
    expect(await lines(a.file)).toHaveLength(1 + 4);
  });

  it('sees the other process appends with a bounded read (no reload unless the file was replaced)', async () => {
    const dir = await tmp();
    const a = await ProgressJournal.open(dir);
    const b = await ProgressJournal.open(dir);
    await a.register([{ key: 'x', configHash: 'h' }]);
    const ino = (await stat(a.file)).ino;
    await b.register([{ key: 'y', configHash: 'h' }]);
    expect(b.size).toBe(2);
    await a.refresh();
    expect(a.size).toBe(2);
    expect((await stat(a.file)).ino).toBe(ino);
  });
});

describe('stale detection with real processes', () => {
  it('a key left running by a dead process is stale; resume settles it and runs it again', async () => {
    const dir = await tmp();
    const run = await collect(spawnFixture('hold-key.ts', [dir, 'm::s::c::1', 'exit']));
    expect(run.lines).toEqual(['started 000001']);
    const journal = await ProgressJournal.open(dir);
    expect(planResume(journal, [{ key: 'm::s::c::1', configHash: 'h1' }]).run).toMatchObject([
      { key: 'm::s::c::1', reason: 'stale' },
    ]);

    const resumed = await resumeSuite(dir, [{ key: 'm::s::c::1', configHash: 'h1' }]);
    expect(resumed.recovery.progress).toEqual({ done: [], interrupted: ['m::s::c::1'] });
    expect(resumed.plan.run).toMatchObject([{ key: 'm::s::c::1', reason: 'interrupted' }]);
    expect(resumed.journal.get('m::s::c::1')?.note).toMatch(/died while running it/);
    const again = await resumed.journal.start('m::s::c::1', { configHash: 'h1' });
    expect(again).toMatchObject({ started: true, entry: { experimentId: '000002', attempts: 2 } });
  });

  it('a key running in a live process is left to it', async () => {
    const dir = await tmp();
    const child = spawnFixture('hold-key.ts', [dir, 'm::s::c::1']);
    const started = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const done = collect(child);
    await started;
    try {
      const resumed = await resumeSuite(dir, [{ key: 'm::s::c::1', configHash: 'h1' }]);
      expect(resumed.plan.run).toEqual([]);
      expect(resumed.plan.running).toMatchObject([{ key: 'm::s::c::1', owner: { pid: child.pid } }]);
      expect(await resumed.journal.start('m::s::c::1', { configHash: 'h1' })).toMatchObject({
        started: false,
        reason: 'running',
      });
    } finally {
      child.stdin!.end();
      await done;
    }
  });
});
