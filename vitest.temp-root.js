// Vitest setup file for every package (testDefaults.setupFiles): each test file gets its own temp
// root (TMPDIR, which os.tmpdir() reads on every call and child processes inherit: workers, torch's
// elastic agent, servers, Slurm daemons), removed after the file. Tests make their folders with
// mkdtemp(os.tmpdir()) as usual, and nothing is left in the machine's temp dir.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const previous = process.env.TMPDIR;
const root = mkdtempSync(path.join(os.tmpdir(), 'joules-test-'));
// Searchable by other users, as /tmp is: daemons that tests start under their own users (munged for
// the Slurm cluster) must reach their sockets below it. The folders inside stay mkdtemp's 0700.
chmodSync(root, 0o755);
process.env.TMPDIR = root;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(root, { recursive: true, force: true });
});
