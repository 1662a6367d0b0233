import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a team gets it: built, packed with `npm pack` (with the @joules packages it
// depends on, packed the same way), unpacked into a folder's node_modules, imported by a plain
// .mjs file run by node, outside the checkout, with no source condition.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const root = path.resolve(pkgDir, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-runner-consumer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PACKAGES = ['config', 'launcher', 'metrics', 'tracker', 'runner'];

function install(): string {
  try {
    execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-b', pkgDir], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`tsc -b packages/runner failed:\n${(error as { stdout?: string }).stdout ?? ''}`, { cause: error });
  }
  const app = path.join(tmp, 'app');
  const thirdParty = new Set<string>();
  for (const name of PACKAGES) {
    const dir = path.join(root, 'packages', name);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
        cwd: dir,
        encoding: 'utf8',
      }),
    ) as { filename: string }[];
    const target = path.join(app, 'node_modules/@joules', name);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(tmp, packed[0]!.filename), '-C', target, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) if (!dep.startsWith('@joules/')) thirdParty.add(dep);
  }
  for (const dep of thirdParty) {
    mkdirSync(path.dirname(path.join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(path.join(root, 'node_modules', dep), path.join(app, 'node_modules', dep), 'dir');
  }
  copyFileSync(fileURLToPath(new URL('./__fixtures__/consumer.mjs', import.meta.url)), path.join(app, 'consumer.mjs'));
  writeFileSync(
    path.join(app, 'suite.yaml'),
    readFileSync(fileURLToPath(new URL('./__fixtures__/two-configs.yaml', import.meta.url)), 'utf8').replace(
      '../../../../.joules/models/tiny-llama',
      path.join(root, '.joules/models/tiny-llama'),
    ),
  );
  return app;
}

describe('consumer: the packed @joules/runner from plain ESM (slow)', () => {
  let app = '';
  beforeAll(() => {
    app = install();
  }, 180_000);

  it('ships built JavaScript only, with its @joules dependencies as packages', () => {
    const installed = path.join(app, 'node_modules/@joules/runner');
    expect(existsSync(path.join(installed, 'src'))).toBe(false);
    expect(existsSync(path.join(installed, 'dist/index.js'))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      '@joules/config',
      '@joules/launcher',
      '@joules/metrics',
      '@joules/tracker',
    ]);
  });

  it('runs a 2-experiment suite and gets the outcome and the events', { timeout: 240_000 }, () => {
    const python = path.join(root, 'python/.venv/bin/python');
    const out = execFileSync(process.execPath, ['consumer.mjs', 'suite.yaml', path.join(app, 'results'), python], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HF_HUB_OFFLINE: '1' },
    });
    const { outcome, events } = JSON.parse(out.trim().split('\n').at(-1)!) as {
      outcome: Record<string, unknown>;
      events: string[];
    };
    expect(outcome).toMatchObject({ suite: 'runner-two', total: 2, done: 2, failed: 0, skipped: 0, interrupted: 0 });
    expect(events[0]).toBe('suite-planned');
    expect(events.filter((t) => t === 'experiment-finished')).toHaveLength(2);
    expect(events.at(-1)).toBe('suite-finished');
    expect(readFileSync(path.join(app, 'results/text_generation_results.csv'), 'utf8').trim().split('\n')).toHaveLength(
      3,
    );
  });
});
