import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// Every folder a test file makes through tempDir, removed after that file (temp-cleanup.ts).
const made = new Set<string>();

/** A fresh folder in the temp dir, removed after the test file that asked for it. */
export async function tempDir(prefix = 'joules-launch-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Remove every folder tempDir made in this test file. */
export async function removeTempDirs(): Promise<void> {
  const dirs = [...made];
  made.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
