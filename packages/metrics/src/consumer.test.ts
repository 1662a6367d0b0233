import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a team gets it: built, packed with `npm pack`, unpacked into a folder whose
// node_modules holds it and zod only (no other @joules package, no source condition), then
// imported by a plain ESM file run by node.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const root = path.resolve(pkgDir, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-metrics-consumer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function install(): string {
  try {
    execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-b', pkgDir], { cwd: root, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`tsc -b packages/metrics failed:\n${(error as { stdout?: string }).stdout ?? ''}`, {
      cause: error,
    });
  }
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], {
      cwd: pkgDir,
      encoding: 'utf8',
    }),
  ) as { filename: string }[];
  const app = path.join(tmp, 'app');
  const target = path.join(app, 'node_modules/@joules/metrics');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, packed[0]!.filename), '-C', target, '--strip-components=1']);
  symlinkSync(path.join(root, 'node_modules/zod'), path.join(app, 'node_modules/zod'), 'dir');
  copyFileSync(fileURLToPath(new URL('./__fixtures__/consumer.mjs', import.meta.url)), path.join(app, 'consumer.mjs'));
  return app;
}

describe('consumer: the packed package alone, with zod', () => {
  let app = '';
  let installed = '';
  beforeAll(() => {
    app = install();
    installed = path.join(app, 'node_modules/@joules/metrics');
  }, 120_000);

  it('ships built JavaScript that imports nothing but zod and its own files (no node: modules, no Node globals)', () => {
    expect(readdirSync(path.join(app, 'node_modules')).sort()).toEqual(['@joules', 'zod']);
    expect(readdirSync(path.join(app, 'node_modules/@joules'))).toEqual(['metrics']);
    expect(existsSync(path.join(installed, 'src'))).toBe(false);
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual(['zod']);
    const js = readdirSync(path.join(installed, 'dist')).filter((f) => f.endsWith('.js'));
    expect(js).toContain('index.js');
    for (const file of js) {
      const code = readFileSync(path.join(installed, 'dist', file), 'utf8');
      const specifiers = [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/g)].map(
        (x) => x[1]!,
      );
      for (const s of specifiers) expect(s === 'zod' || s.startsWith('./'), `${file} imports ${s}`).toBe(true);
      expect(code, file).not.toMatch(/(?:^|\n)\s*import\s*['"]/); // no side-effect imports
      expect(code, file).not.toMatch(/\b(process|Buffer|require|__dirname)\b\s*[.(]/);
      expect(code, file).not.toMatch(/\bimport\s*\(/);
    }
  });

  it('a plain .mjs file imports it and gets the worked example', () => {
    const out = JSON.parse(
      execFileSync(process.execPath, ['consumer.mjs'], {
        cwd: app,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    ) as {
      exports: string[];
      metrics: Record<string, number | null>;
      cycles: { n: number; metrics: { energy_total_j: { mean: number; std: number; ci95_half_width: number } } }[];
    };
    expect(out.exports).toEqual(
      expect.arrayContaining([
        'RawMeasurementSchema',
        'aggregateRanks',
        'deriveMetrics',
        'toResultRecord',
        'RESULT_COLUMNS',
        'parseResultRecord',
        'cycleStatistics',
        'summarizeResults',
      ]),
    );
    expect(out.metrics.energy_total_j).toBe(36);
    expect(out.metrics.energy_per_token_j).toBeCloseTo(36 / 124, 12);
    expect(out.metrics.energy_adjusted_j).toBeCloseTo(11, 12);
    expect(out.metrics.emissions_kg).toBeCloseTo(4.8e-6, 18);
    expect(out.metrics.time_per_output_token_max_s).toBeCloseTo(0.2, 12);
    expect(out.cycles[0]!.n).toBe(3);
    expect(out.cycles[0]!.metrics.energy_total_j).toMatchObject({ mean: 38, std: 2 });
    expect(out.cycles[0]!.metrics.energy_total_j.ci95_half_width).toBeCloseTo(4.968275, 6);
  });
});
