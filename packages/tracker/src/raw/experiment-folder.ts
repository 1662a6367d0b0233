import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from '../atomic-write.js';
import { ResultsFileError, TrackerInputError } from '../errors.js';
import { resultsLayout } from '../layout.js';
import { currentOwner, type ProcessOwner } from '../owner.js';
import { MANIFEST_FILE, type Manifest, type ManifestEntry, manifestEntry } from './manifest.js';
import { hashFile, type SideFile } from './side-files.js';

/** `.joules/pending/<id>.json`: an experiment whose folder or CSV row may not be there yet. */
export interface PendingMarker {
  experimentId: string;
  owner: ProcessOwner;
  /** Base name of the CSV whose row acknowledges the experiment. */
  csvFile: string;
  createdAt: string;
}

export const ID_PATTERN = /^\d+$/;
const SUFFIX_PATTERN = /^[\w.-]+$/;

/** JSON turns NaN/Infinity into null silently; refuse them loudly instead. */
function assertFinite(value: unknown, where: string): void {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TrackerInputError(`${where}: non-finite number ${value}`);
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertFinite(v, `${where}.${k}`);
  }
}

/** Write a new file and fsync it (inside the staging folder: the folder is the temp name). */
async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WrittenFolder {
  dir: string;
  files: string[];
  manifestFile: string;
}

/** Copy a file into the staging folder (never over another) and fsync it. */
async function copySynced(source: string, file: string): Promise<void> {
  await copyFile(source, file, constants.COPYFILE_EXCL);
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Write an experiment's documents as `raw_results/<id>/<id>_<suffix>.json` and its side files
 * (copied as they are) as `raw_results/<id>/<id>_<name>`, crash-safely: a
 * pending marker first; the folder built under a temp name in `.joules/staging/` (each file
 * fsynced, the manifest last, the folder fsynced) and renamed into raw_results/ whole. The marker stays until
 * `confirmExperiment` (after the CSV row): a marker left by a dead process tells resume what
 * to check.
 */
export async function writeExperimentFolder(
  resultsDir: string,
  experimentId: string,
  documents: Record<string, unknown>,
  csvFile: string,
  files: readonly SideFile[] = [],
): Promise<WrittenFolder> {
  if (!ID_PATTERN.test(experimentId))
    throw new TrackerInputError(`experimentId: expected digits, got "${experimentId}"`);
  const names = new Set<string>();
  for (const [suffix, doc] of Object.entries(documents)) {
    if (!SUFFIX_PATTERN.test(suffix)) throw new TrackerInputError(`documents: bad file suffix "${suffix}"`);
    assertFinite(doc, suffix);
    names.add(`${suffix}.json`);
  }
  for (const f of files) {
    if (!SUFFIX_PATTERN.test(f.name) || f.name.startsWith('.'))
      throw new TrackerInputError(`files: bad file name "${f.name}"`);
    if (names.has(f.name)) throw new TrackerInputError(`files: "${f.name}" is given twice`);
    names.add(f.name);
  }
  const layout = resultsLayout(resultsDir);
  const marker: PendingMarker = {
    experimentId,
    owner: currentOwner(),
    csvFile: path.basename(csvFile),
    createdAt: new Date().toISOString(),
  };
  await mkdir(layout.pendingDir, { recursive: true });
  await writeFileAtomic(layout.pendingMarker(experimentId), `${JSON.stringify(marker)}\n`);

  const staging = path.join(layout.stagingDir, `${experimentId}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  const entries: ManifestEntry[] = [];
  for (const [suffix, doc] of Object.entries(documents)) {
    const name = `${experimentId}_${suffix}.json`;
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    await writeSynced(path.join(staging, name), text);
    entries.push(manifestEntry(name, text));
  }
  for (const f of files) {
    const name = `${experimentId}_${f.name}`;
    try {
      await copySynced(f.source, path.join(staging, name));
    } catch (cause) {
      await rm(staging, { recursive: true, force: true });
      throw new ResultsFileError(f.source, `cannot copy into the results folder as ${name}`, { cause });
    }
    entries.push({ name, ...(await hashFile(path.join(staging, name))) });
  }
  const manifest: Manifest = {
    format: 'joules-manifest',
    version: 1,
    experimentId,
    createdAt: new Date().toISOString(),
    files: entries,
  };
  await writeSynced(path.join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await fsyncDir(staging);

  const dir = layout.experimentDir(experimentId);
  await mkdir(layout.rawDir, { recursive: true });
  try {
    await rename(staging, dir);
  } catch (cause) {
    await rm(staging, { recursive: true, force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new ResultsFileError(dir, 'already exists: experiment ids are never reused', { cause });
    throw cause;
  }
  await fsyncDir(layout.rawDir);
  await fsyncDir(layout.stagingDir);
  return { dir, files: entries.map((e) => path.join(dir, e.name)), manifestFile: path.join(dir, MANIFEST_FILE) };
}

/** The experiment's CSV row is in: drop its pending marker. */
export async function confirmExperiment(resultsDir: string, experimentId: string): Promise<void> {
  const layout = resultsLayout(resultsDir);
  await unlink(layout.pendingMarker(experimentId)).catch((error) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  await fsyncDir(layout.pendingDir);
}
