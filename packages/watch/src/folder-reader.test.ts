import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendExperiment } from './__fixtures__/append-experiment.js';
import { FolderReader } from './folder-reader.js';
import { WatchState } from './watch-state.js';

let dir = '';
let csv = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-reader-'));
  await writeStudyFolder(dir, { experiments: 40, failures: 2 });
  csv = path.join(dir, 'text_generation_results.csv');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What one refresh passed to its sink. */
async function refresh(reader: FolderReader) {
  const got = { resets: 0, entries: 0, ids: [] as string[], failures: [] as string[], bad: 0 };
  await reader.refresh({
    reset: () => {
      got.resets++;
      got.ids = [];
    },
    entry: () => got.entries++,
    result: (r) => got.ids.push(r.id),
    failure: (f) => got.failures.push(f.experimentId),
    badRow: () => got.bad++,
  });
  return got;
}

describe('FolderReader follows the CSVs by offset', () => {
  it('passes only the rows appended since the last read; a torn last line waits for its end', async () => {
    const reader = await FolderReader.open(dir);
    const first = await refresh(reader);
    expect(first).toMatchObject({ resets: 0, entries: 40, bad: 0 });
    expect(first.ids).toHaveLength(38);
    expect(first.failures).toHaveLength(2);
    expect(await refresh(reader)).toEqual({ resets: 0, entries: 0, ids: [], failures: [], bad: 0 });

    await appendExperiment(dir, { id: '000101', model: 'org/llama-3.1-8b', config: 'cfg-a', cycle: 1, journal: false });
    expect(await refresh(reader)).toEqual({ resets: 0, entries: 0, ids: ['000101'], failures: [], bad: 0 });

    const text = await readFile(csv, 'utf8');
    const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1).replace('000101', '000102');
    await appendFile(csv, last.slice(0, 200)); // a writer mid-append
    expect((await refresh(reader)).ids).toEqual([]);
    await appendFile(csv, `${last.slice(200, -1)}`);
    expect((await refresh(reader)).ids).toEqual([]);
    await appendFile(csv, '\n');
    expect((await refresh(reader)).ids).toEqual(['000102']);
    await appendFile(csv, '000103,cfg-a,org/m,study,not-a-cycle\n');
    expect((await refresh(reader)).bad).toBe(1);
  });

  it('reads everything again after a reset when a CSV is truncated, rewritten or replaced', async () => {
    const reader = await FolderReader.open(dir);
    const total = (await refresh(reader)).ids.length;
    const text = await readFile(csv, 'utf8');
    const lines = text.split('\n');

    await writeFile(csv, `${lines.slice(0, -3).join('\n')}\n`); // truncated: the last two rows gone
    expect(await refresh(reader)).toMatchObject({ resets: 1, entries: 40 });
    expect((await refresh(reader)).resets).toBe(0);

    await writeFile(`${csv}.new`, text); // replaced by another file (a rotation, a copy)
    await rename(`${csv}.new`, csv);
    const replaced = await refresh(reader);
    expect(replaced.resets).toBe(1);
    expect(replaced.ids).toHaveLength(total);

    const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n'); // same size, rewritten in place
    await writeFile(csv, swapped);
    expect((await refresh(reader)).resets).toBe(1);
  });
});

describe('WatchState folds in what changed', () => {
  it('reports only the experiment whose journal entry changed', async () => {
    const state = await WatchState.open(dir);
    expect((await state.update()).reset).toBe(true);
    const key = await appendExperiment(dir, { id: '000201', model: 'org/mistral-7b', config: 'cfg-b', cycle: 2 });
    const changes = await state.update();
    expect(changes.reset).toBe(false);
    expect([...changes.keys]).toEqual([key]);
    expect(changes.results.map((r) => r.id)).toEqual(['000201']);
    expect(state.tally.status(key)).toBe('done');
  });
});
