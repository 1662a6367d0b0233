import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { deadPid } from '../__fixtures__/processes.js';
import { appendCsvRows } from '../csv-append.js';
import { ResultsFileError, TrackerInputError } from '../errors.js';
import { allocateExperimentId } from '../experiment-id.js';
import { resultsLayout } from '../layout.js';
import { currentOwner } from '../owner.js';
import { commitExperiment } from './commit.js';
import { writeExperimentFolder } from './experiment-folder.js';
import { checkExperimentFolder, sha256 } from './manifest.js';
import { recoverResults } from './recover.js';
import { verifyResults } from './verify.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-raw-'));
const COLUMNS = ['experiment_id', 'value'];
const commit = (dir: string, id: string) =>
  commitExperiment(dir, {
    experimentId: id,
    documents: { '1_setup': { id, nested: { a: [1, 2] } }, '7_energy': { id, joules: 1.5 } },
    csvFile: path.join(dir, 'x_results.csv'),
    columns: COLUMNS,
    row: [id, 1.5],
  });

/** Rewrite a pending marker as if a process now dead had written it. */
async function orphan(dir: string, id: string) {
  const file = resultsLayout(dir).pendingMarker(id);
  const marker = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...marker, owner: { ...currentOwner(), pid: await deadPid() } }));
}

describe('commitExperiment', () => {
  it('writes the files, a manifest of their sizes and sha256, then the CSV row; no marker left', async () => {
    const dir = await tmp();
    const done = await commit(dir, '000001');
    expect(done.files.map((f) => path.basename(f))).toEqual(['000001_1_setup.json', '000001_7_energy.json']);
    const manifest = JSON.parse(await readFile(done.manifestFile, 'utf8'));
    expect(manifest).toMatchObject({ format: 'joules-manifest', experimentId: '000001' });
    for (const [i, file] of done.files.entries()) {
      const text = await readFile(file, 'utf8');
      expect(manifest.files[i]).toEqual({
        name: path.basename(file),
        bytes: Buffer.byteLength(text),
        sha256: sha256(text),
      });
    }
    expect(parse(await readFile(done.csvFile, 'utf8'))).toEqual([COLUMNS, ['000001', '1.5']]);
    expect(await readdir(resultsLayout(dir).pendingDir)).toEqual([]);
    expect(await readdir(resultsLayout(dir).stagingDir)).toEqual([]);
  });

  it('refuses an id whose folder exists, bad ids and suffixes, NaN, and a row for another id', async () => {
    const dir = await tmp();
    await commit(dir, '000001');
    await expect(commit(dir, '000001')).rejects.toBeInstanceOf(ResultsFileError);
    await expect(writeExperimentFolder(dir, 'abc', {}, 'x.csv')).rejects.toThrow(/experimentId/);
    await expect(writeExperimentFolder(dir, '000002', { '../x': {} }, 'x.csv')).rejects.toThrow(/suffix/);
    await expect(writeExperimentFolder(dir, '000002', { a: { e: { j: Number.NaN } } }, 'x.csv')).rejects.toThrow(
      /a\.e\.j: non-finite/,
    );
    const bad = commitExperiment(dir, {
      experimentId: '000003',
      documents: {},
      csvFile: path.join(dir, 'x.csv'),
      columns: COLUMNS,
      row: ['000004', 1],
    });
    await expect(bad).rejects.toBeInstanceOf(TrackerInputError);
  });
});

describe('checkExperimentFolder and verifyResults', () => {
  it('finds a missing file, a changed size, changed bytes (with hashes), and folders without manifest', async () => {
    const dir = await tmp();
    for (const id of ['000001', '000002', '000003', '000004']) await commit(dir, id);
    const layout = resultsLayout(dir);
    await writeFile(path.join(layout.experimentDir('000002'), '000002_7_energy.json'), '{}');
    const f3 = path.join(layout.experimentDir('000003'), '000003_7_energy.json');
    const text = await readFile(f3, 'utf8');
    await writeFile(f3, text.replace('1.5', '2.5'));
    await writeFile(path.join(layout.experimentDir('000004'), 'manifest.json'), 'not json');
    await mkdir(layout.experimentDir('000009')); // no manifest and no CSV row
    await mkdir(layout.experimentDir('000010')); // no manifest, but acknowledged: written before manifests
    await appendCsvRows(path.join(dir, 'x_results.csv'), COLUMNS, [['000010', 1]]);

    expect(await checkExperimentFolder(layout.experimentDir('000003'))).toMatchObject({ ok: true });
    expect(await checkExperimentFolder(layout.experimentDir('000003'), { hashes: true })).toEqual({
      ok: false,
      problem: 'hash-mismatch',
      file: '000003_7_energy.json',
    });
    const v = await verifyResults(dir, { hashes: true });
    expect(v.ok).toBe(1);
    expect(v.legacy).toEqual(['000010']);
    expect(v.problems.map((p) => [p.experimentId, p.problem])).toEqual([
      ['000002', 'size-mismatch'],
      ['000003', 'hash-mismatch'],
      ['000004', 'bad-manifest'],
      ['000009', 'no-manifest'],
    ]);
  });
});

describe('recoverResults', () => {
  it('confirms an acknowledged experiment whose marker a dead process left', async () => {
    const dir = await tmp();
    await writeExperimentFolder(dir, '000001', { a: {} }, 'x_results.csv');
    await appendCsvRows(path.join(dir, 'x_results.csv'), COLUMNS, [['000001', 1]]);
    await orphan(dir, '000001');
    const r = await recoverResults(dir);
    expect(r).toEqual({ confirmed: ['000001'], setAside: [], live: [] });
    expect(await readdir(resultsLayout(dir).pendingDir)).toEqual([]);
    expect((await checkExperimentFolder(resultsLayout(dir).experimentDir('000001'))).ok).toBe(true);
  });

  it('sets aside a whole folder whose CSV row never came, and a half-built one; the ids are not reused', async () => {
    const dir = await tmp();
    const layout = resultsLayout(dir);
    await writeExperimentFolder(dir, '000001', { a: {} }, 'x_results.csv');
    await orphan(dir, '000001');
    await mkdir(path.join(layout.stagingDir, '000002-abcd1234'), { recursive: true });
    await writeFile(path.join(layout.stagingDir, '000002-abcd1234', '000002_a.json'), '{"cut');
    await writeFile(
      layout.pendingMarker('000002'),
      JSON.stringify({
        experimentId: '000002',
        owner: { ...currentOwner(), pid: await deadPid() },
        csvFile: 'x_results.csv',
      }),
    );
    await appendFile(path.join(dir, 'x_results.csv'), '');

    const r = await recoverResults(dir);
    expect(r.confirmed).toEqual([]);
    expect(r.setAside.map((s) => [s.experimentId, s.reason])).toEqual([
      ['000001', 'unacknowledged'],
      ['000002', 'staging'],
    ]);
    for (const s of r.setAside) expect(s.to?.startsWith(layout.incompleteDir)).toBe(true);
    expect(await readdir(layout.rawDir)).toEqual([]);
    expect(await readdir(layout.pendingDir)).toEqual([]);
    // The counter was lost too: ids of set-aside folders are still never handed out again.
    await rm(layout.counterFile, { force: true });
    expect(await allocateExperimentId(dir)).toBe('000003');
  });

  it('leaves alone what a live process is writing', async () => {
    const dir = await tmp();
    await writeExperimentFolder(dir, '000001', { a: {} }, 'x_results.csv');
    expect(await recoverResults(dir)).toEqual({ confirmed: [], setAside: [], live: ['000001'] });
    expect(await readdir(resultsLayout(dir).rawDir)).toEqual(['000001']);
  });

  it('removes instead of moving aside when asked', async () => {
    const dir = await tmp();
    await writeExperimentFolder(dir, '000001', { a: {} }, 'x_results.csv');
    await orphan(dir, '000001');
    const r = await recoverResults(dir, { remove: true });
    expect(r.setAside).toMatchObject([{ experimentId: '000001', reason: 'unacknowledged' }]);
    expect(r.setAside[0]?.to).toBeUndefined();
    expect(await readdir(resultsLayout(dir).rawDir)).toEqual([]);
  });
});
