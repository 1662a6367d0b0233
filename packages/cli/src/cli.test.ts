import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
const bin = fileURLToPath(new URL('../bin/joules.js', import.meta.url));

describe('joules validate / run on bad input', () => {
  it('names the field and exits 2', async () => {
    const output = captureOutput();
    expect(await runMain(['validate', fixture('wrong-type.yaml')], output)).toBe(2);
    expect(output.stderr).toEqual([
      `${fixture('wrong-type.yaml')}:3 batch_size: Invalid input: expected number, received string`,
    ]);
  });

  it('the real bin: exit 2, the field named, and nothing written by run', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'joules-cli-'));
    const r = await promisify(execFile)(process.execPath, [bin, 'run', fixture('wrong-type.yaml')], { cwd }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toMatch(/wrong-type\.yaml:3 batch_size: /);
    expect((r as { stderr: string }).stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(path.join(cwd, 'results'))).toBe(false);
  });

  it('unknown commands and flags are usage errors', async () => {
    expect(await runMain(['frobnicate'], captureOutput())).toBe(2);
    expect(await runMain(['run', 'x.yaml', '--colour'], captureOutput())).toBe(2);
    expect(await runMain([], captureOutput())).toBe(2);
  });

  it('a missing file is a config error naming the file', async () => {
    const output = captureOutput();
    expect(await runMain(['validate', '/nope/missing.yaml'], output)).toBe(2);
    expect(output.stderr[0]).toBe('/nope/missing.yaml: file not found');
  });

  it('prints the experiment JSON Schema', async () => {
    const output = captureOutput();
    expect(await runMain(['schema', 'experiment'], output)).toBe(0);
    const schema = JSON.parse(output.stdout.join('\n'));
    expect(schema.required).toEqual(['config_name', 'model_name']);
  });

  it('validates every example (experiments and suites) and says what a suite expands to', async () => {
    const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
    const output = captureOutput();
    const files = ['demo.yaml', 'demo-suite.yaml', 'controlled-suite.yaml', 'grid-suite.yaml'].map((f) => examples + f);
    expect(await runMain(['validate', ...files], output)).toBe(0);
    expect(output.stdout[1]).toBe(`${files[1]}: valid (suite, 12 experiments)`);
  });

  it('config show applies --set and prints every effective value', async () => {
    const output = captureOutput();
    const code = await runMain(
      [
        'config',
        'show',
        fixture('two-process.yaml'),
        '--set',
        'batch_size=5',
        '--set',
        'decoding.mode=sampling',
        '--json',
      ],
      output,
    );
    expect(code).toBe(0);
    const shown = JSON.parse(output.stdout[0]!);
    expect(shown).toMatchObject({ batch_size: 5, decoding: { mode: 'sampling' }, num_processes: 2, precision: 'fp32' });
    expect(shown.model_name).toMatch(/^\/.*\.joules\/models\/tiny-llama$/);
  });

  it('a bad --set path is a usage error naming it', async () => {
    const output = captureOutput();
    expect(await runMain(['validate', fixture('two-process.yaml'), '--set', 'batch_sise=5'], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/batch_sise/);
  });

  it('prints the suite JSON Schema too', async () => {
    const output = captureOutput();
    expect(await runMain(['schema', 'suite'], output)).toBe(0);
    expect(JSON.parse(output.stdout.join('\n')).properties).toHaveProperty('models');
  });

  it('a launcher module that does not exist is a usage error naming it, and nothing is written', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'joules-cli-'));
    const output = captureOutput();
    const code = await runMain(
      [
        'run',
        fixture('two-process.yaml'),
        '--set',
        'launch.launcher=./nope.mjs',
        '--results-dir',
        path.join(cwd, 'results'),
      ],
      output,
    );
    expect(code).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/launch\.launcher: module .*nope\.mjs not found/);
    expect(output.stderr.join('\n')).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(path.join(cwd, 'results'))).toBe(false);
  });

  it('the python launcher with several processes is refused at validation', async () => {
    const output = captureOutput();
    expect(await runMain(['validate', fixture('two-process.yaml'), '--set', 'launch.launcher=python'], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/launch\.launcher: "python" runs one process; num_processes is 2/);
  });
});
