import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { fake, job, tempDir } from './__fixtures__/helpers.js';
import { AccelerateLauncher } from './accelerate-launcher.js';
import { isLauncher, loadLauncher } from './load-launcher.js';
import { PythonLauncher } from './python-launcher.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('loadLauncher: built-ins', () => {
  it('accelerate and python, with their executables', async () => {
    expect(await loadLauncher('accelerate', { cwd: '/', accelerateBin: '/v/bin/accelerate' })).toBeInstanceOf(
      AccelerateLauncher,
    );
    expect(await loadLauncher('python', { cwd: '/', pythonBin: '/v/bin/python' })).toBeInstanceOf(PythonLauncher);
  });

  it.each([
    ['accelerate', { cwd: '/' }, 'LAUNCHER_OPTION_MISSING', 'launcher "accelerate" needs the accelerateBin option'],
    ['python', { cwd: '/' }, 'LAUNCHER_OPTION_MISSING', 'launcher "python" needs the pythonBin option'],
    [
      'slurm',
      { cwd: '/' },
      'UNKNOWN_LAUNCHER',
      'launch.launcher: unknown launcher "slurm"; use "accelerate", "python" or a module path such as "./my-launcher.mjs"',
    ],
  ])('%s with %o: %s', async (spec, options, code, message) => {
    await expect(loadLauncher(spec, options)).rejects.toMatchObject({ name: 'LauncherLoadError', code, message });
  });
});

describe('loadLauncher: modules', () => {
  let dir = '';
  const modules: Record<string, string> = {
    'object.mjs': `export default { name: 'obj', async launch() { return { status: 'interrupted', message: 'x', durationMs: 0, command: [] }; } };`,
    'factory.mjs': `export default async (options) => ({ name: 'made-in-' + options.cwd.split('/').pop(), launch: async () => ({}) });`,
    'class.mjs': `export default class Mine { name = 'cls'; constructor(o) { this.bin = o.pythonBin; } launch() {} }`,
    'nodefault.mjs': `export const launcher = { name: 'x', launch() {} };`,
    'wrong.mjs': `export default { hello: 1 };`,
    'returns-number.mjs': `export default () => 42;`,
    'throws.mjs': `export default () => { throw new Error('no GPU here'); };`,
    'syntax.mjs': `export default {{;`,
  };
  beforeAll(async () => {
    dir = await tempDir();
    for (const [name, text] of Object.entries(modules)) await writeFile(path.join(dir, name), text);
  });

  it('a default-exported object, factory or class; paths relative to cwd', async () => {
    expect((await loadLauncher('./object.mjs', { cwd: dir })).name).toBe('obj');
    expect((await loadLauncher('./factory.mjs', { cwd: dir })).name).toBe(`made-in-${path.basename(dir)}`);
    const cls = await loadLauncher(path.join(dir, 'class.mjs'), { cwd: '/', pythonBin: '/py' });
    expect([cls.name, (cls as unknown as { bin: string }).bin]).toEqual(['cls', '/py']);
  });

  it.each([
    [
      './missing.mjs',
      'LAUNCHER_MODULE_NOT_FOUND',
      /^launch\.launcher: module \.\/missing\.mjs not found \(looked for .*\/missing\.mjs\)$/,
    ],
    ['./nodefault.mjs', 'NOT_A_LAUNCHER', /nodefault\.mjs does not export a launcher: .*; got no default export$/],
    ['./wrong.mjs', 'NOT_A_LAUNCHER', /got an object with keys hello$/],
    ['./returns-number.mjs', 'NOT_A_LAUNCHER', /got a factory that returned number$/],
    ['./throws.mjs', 'LAUNCHER_MODULE_FAILED', /the factory exported by .*throws\.mjs threw: no GPU here$/],
    ['./syntax.mjs', 'LAUNCHER_MODULE_FAILED', /^launch\.launcher: cannot import .*syntax\.mjs: /],
  ])('%s: %s', async (spec, code, message) => {
    await expect(loadLauncher(spec, { cwd: dir })).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('isLauncher checks the shape', () => {
    expect(isLauncher({ name: 'a', launch() {} })).toBe(true);
    expect(isLauncher({ name: 'a', launch() {}, command: 1 })).toBe(false);
    expect(isLauncher({ name: '', launch() {} })).toBe(false);
    expect(isLauncher(null)).toBe(false);
  });
});

describe("the README's custom launcher (src/__fixtures__/taskset-launcher.mjs)", { timeout: 30_000 }, () => {
  it('is the code the README shows', async () => {
    const readme = await readFile(path.join(packageDir, 'README.md'), 'utf8');
    const shown = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    const fixture = await readFile(path.join(packageDir, 'src/__fixtures__/taskset-launcher.mjs'), 'utf8');
    expect(
      fixture
        .split('\n')
        .filter((l) => !l.startsWith('// The custom launcher') && !l.startsWith('// some CPU cores'))
        .join('\n'),
    ).toBe(shown);
  });

  it('loads by path and runs a job pinned to one CPU core', async () => {
    const launcher = await loadLauncher('./src/__fixtures__/taskset-launcher.mjs', {
      cwd: packageDir,
      accelerateBin: fake,
    });
    expect(launcher.name).toBe('taskset-accelerate');
    const j = await job('success', { num_processes: 2 }, { env: { JOULES_CORES: '0' } });
    const outcome = await launcher.launch(j);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.command.slice(0, 5)).toEqual(['taskset', '--cpu-list', '0', fake, 'launch']);
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    expect(seen.cores).toBe(1); // the worker saw one core
    expect(seen.env.ACCELERATE_USE_CPU).toBe('true');
  });
});
