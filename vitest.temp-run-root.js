// Vitest globalSetup for every package (testDefaults.globalSetup): one temp folder for the whole run,
// made TMPDIR before any test file starts, removed at teardown. Each test file's own root
// (vitest.temp-root.js) sits inside it, so a file that ran no test (a -t filter, a skipped
// describe: no afterAll) leaves nothing behind either.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup() {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(path.join(os.tmpdir(), 'joules-run-'));
  chmodSync(root, 0o755); // searchable, as /tmp is: daemons under other users (munged) reach their sockets
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
