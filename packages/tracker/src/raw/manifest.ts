import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Written last into each raw_results/<id>/ folder: what a whole folder holds. */
export const MANIFEST_FILE = 'manifest.json';

export interface ManifestEntry {
  name: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: 'joules-manifest';
  version: 1;
  experimentId: string;
  createdAt: string;
  files: ManifestEntry[];
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export function manifestEntry(name: string, data: string): ManifestEntry {
  return { name, bytes: Buffer.byteLength(data, 'utf8'), sha256: sha256(data) };
}

export type FolderProblem = 'no-manifest' | 'bad-manifest' | 'missing-file' | 'size-mismatch' | 'hash-mismatch';

export type FolderCheck = { ok: true; manifest: Manifest } | { ok: false; problem: FolderProblem; file?: string };

async function readManifest(dir: string): Promise<Manifest | FolderProblem> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no-manifest';
    throw error;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.format !== 'joules-manifest' || !Array.isArray(m.files)) return 'bad-manifest';
    return m;
  } catch {
    return 'bad-manifest';
  }
}

/**
 * Check an experiment folder against its manifest: every listed file there with its size, and
 * (with `hashes`) its sha256.
 */
export async function checkExperimentFolder(dir: string, options: { hashes?: boolean } = {}): Promise<FolderCheck> {
  const manifest = await readManifest(dir);
  if (typeof manifest === 'string') return { ok: false, problem: manifest };
  for (const entry of manifest.files) {
    const file = path.join(dir, entry.name);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) return { ok: false, problem: 'missing-file', file: entry.name };
    if (size !== entry.bytes) return { ok: false, problem: 'size-mismatch', file: entry.name };
    if (options.hashes && sha256(await readFile(file)) !== entry.sha256)
      return { ok: false, problem: 'hash-mismatch', file: entry.name };
  }
  return { ok: true, manifest };
}
