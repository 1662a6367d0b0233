import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root of this checkout. */
export const CHECKOUT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A copy of this checkout's working tree in `dest`, as a test that edits the source would want it:
 * the files git tracks or would track (edits not yet committed included), and the generated things
 * that are costly to make linked, not copied: npm's dependencies (each entry a symlink, except the
 * workspace's own packages, which point into the copy), the worker's venv and the tiny models.
 * Nothing in the checkout is written. Builds (`dist/`) are not copied: the copy builds its own.
 */
export async function copyCheckout(dest: string, root: string = CHECKOUT_ROOT): Promise<string> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter((f) => f && existsSync(path.join(root, f)));
  for (const f of files) await cp(path.join(root, f), path.join(dest, f), { recursive: false });
  await linkNodeModules(path.join(root, 'node_modules'), path.join(dest, 'node_modules'));
  for (const pkg of await readdir(path.join(root, 'packages'))) {
    const own = path.join(root, 'packages', pkg, 'node_modules');
    if (existsSync(own)) await symlink(own, path.join(dest, 'packages', pkg, 'node_modules'));
  }
  for (const generated of ['python/.venv', '.joules/models']) {
    if (!existsSync(path.join(root, generated))) continue;
    await mkdir(path.dirname(path.join(dest, generated)), { recursive: true });
    await symlink(path.join(root, generated), path.join(dest, generated));
  }
  return dest;
}

async function linkNodeModules(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from)) {
    if (entry === '@joules' || entry === '.cache') continue; // a tool's cache would be the checkout's
    await symlink(path.join(from, entry), path.join(to, entry));
  }
  // The workspace's packages: npm's relative links (../../packages/x), so they resolve inside the copy.
  await mkdir(path.join(to, '@joules'));
  for (const pkg of await readdir(path.join(from, '@joules')))
    await symlink(await readlink(path.join(from, '@joules', pkg)), path.join(to, '@joules', pkg));
}
