import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { resultsLayout } from '../layout.js';
import { acknowledgedIds } from './acknowledged.js';
import { ID_PATTERN } from './experiment-folder.js';
import { checkExperimentFolder, type FolderProblem } from './manifest.js';

export interface ResultsVerification {
  /** Folders whose files match their manifest. */
  ok: number;
  /** Folders written before manifests existed (no manifest, but a CSV row acknowledges them). */
  legacy: string[];
  /** Folders that do not match their manifest, or have none and no CSV row. */
  problems: Array<{ experimentId: string; dir: string; problem: FolderProblem; file?: string }>;
}

/**
 * Check every experiment folder against its manifest (sizes; sha256 too with `hashes`). Reads
 * every folder: a check to run on demand, not on each resume (see recoverResults).
 */
export async function verifyResults(
  resultsDir: string,
  options: { hashes?: boolean; csvFiles?: string[] } = {},
): Promise<ResultsVerification> {
  const layout = resultsLayout(resultsDir);
  const out: ResultsVerification = { ok: 0, legacy: [], problems: [] };
  const ids = (await readdir(layout.rawDir).catch(() => [] as string[])).filter((n) => ID_PATTERN.test(n)).sort();
  let acked: Set<string> | undefined;
  for (const id of ids) {
    const dir = layout.experimentDir(id);
    const check = await checkExperimentFolder(dir, options);
    if (check.ok) {
      out.ok++;
      continue;
    }
    if (check.problem === 'no-manifest') {
      if (!acked) {
        acked = new Set();
        const csvs = options.csvFiles ?? (await readdir(layout.root)).filter((n) => n.endsWith('_results.csv'));
        for (const csv of csvs) for (const a of await acknowledgedIds(layout.root, path.basename(csv))) acked.add(a);
      }
      if (acked.has(id)) {
        out.legacy.push(id);
        continue;
      }
    }
    out.problems.push({ experimentId: id, dir, problem: check.problem, ...(check.file && { file: check.file }) });
  }
  return out;
}

/** Remove temp files (`.<name>.<pid>.<hex>.tmp`) older than `olderThanMs` that crashed writers left in `dir`. */
export async function sweepTempFiles(dir: string, olderThanMs = 10 * 60_000): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!/^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(name)) continue;
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => undefined);
    if (st && st.mtimeMs < Date.now() - olderThanMs) {
      await rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}
