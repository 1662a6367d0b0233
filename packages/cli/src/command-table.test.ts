import { describe, expect, it, vi } from 'vitest';
import { captureOutput } from './output.js';
import { buildProgram } from './program.js';

// Each command module is replaced by a spy: these tests check only how argv becomes the options object.
const calls: { command: string; options: unknown }[] = [];
const spy =
  (command: string) =>
  async (options: unknown): Promise<number> => {
    calls.push({ command, options });
    return 0;
  };
vi.mock('./commands/run.js', () => ({ run: spy('run') }));
vi.mock('./commands/suite.js', () => ({ suite: spy('suite') }));
vi.mock('./commands/validate.js', () => ({ validate: spy('validate') }));
vi.mock('./commands/config-show.js', () => ({ configShow: spy('configShow') }));
vi.mock('./commands/status.js', () => ({ status: spy('status') }));
vi.mock('./commands/results.js', () => ({ results: spy('results') }));
vi.mock('./commands/watch.js', () => ({ watch: spy('watch') }));
vi.mock('./commands/report.js', () => ({ report: spy('report') }));
vi.mock('./commands/doctor.js', () => ({ doctor: spy('doctor') }));
vi.mock('./commands/schema.js', () => ({ schema: spy('schema') }));

async function parsed(...argv: string[]) {
  calls.length = 0;
  const signal = new AbortController().signal;
  const ctx = { output: captureOutput(), signal, code: -1 };
  await buildProgram(ctx).parseAsync(argv, { from: 'user' });
  expect(ctx.code).toBe(0);
  expect(calls).toHaveLength(1);
  return { ...calls[0]!, signal };
}

describe('the command table', () => {
  it('maps every command line to its command options', async () => {
    const run = await parsed('run', 'a.yaml', '--set', 'x=1', '--set', 'y=2', '--dry-run', '--python', 'py');
    expect(run).toEqual({
      command: 'run',
      signal: run.signal,
      options: { config: 'a.yaml', set: ['x=1', 'y=2'], python: 'py', json: false, dryRun: true, signal: run.signal },
    });
    const suite = await parsed('suite', 's.yaml', '--gpus', '0,1', '--rerun-failed', '--watch', '--json');
    expect(suite.options).toEqual({
      file: 's.yaml',
      maxParallel: 1,
      gpus: [0, 1],
      skipInvalid: false,
      rerunFailed: true,
      rerunChanged: false,
      reuseModel: false,
      dryRun: false,
      detach: false,
      json: true,
      signal: suite.signal,
      watch: true,
    });
    expect((await parsed('suite', 's.yaml', '--watch', '9000', '--max-parallel', '3')).options).toMatchObject({
      maxParallel: 3,
      watch: 9000,
    });
    expect((await parsed('validate', 'a.yaml', 'b.yaml', '--skip-invalid')).options).toEqual({
      files: ['a.yaml', 'b.yaml'],
      json: false,
      skipInvalid: true,
    });
    expect((await parsed('config', 'show', 'a.yaml', '--set', 'x=1', '--json')).options).toEqual({
      file: 'a.yaml',
      json: true,
      skipInvalid: false,
      set: ['x=1'],
    });
    expect((await parsed('status')).options).toEqual({ json: false });
    expect((await parsed('status', 's.yaml', '--results-dir', 'r', '--max-parallel', '2')).options).toEqual({
      suite: 's.yaml',
      json: false,
      resultsDir: 'r',
      maxParallel: 2,
    });
    expect((await parsed('results', '--sql', 'SELECT 1', '--format', 'csv', '--out', 'o.csv')).options).toEqual({
      sql: 'SELECT 1',
      format: 'csv',
      out: 'o.csv',
    });
    const watch = await parsed('watch', '--port', '0', '--host', '0.0.0.0', '--token', 't');
    expect(watch.options).toEqual({ port: 0, host: '0.0.0.0', token: 't', signal: watch.signal });
    expect((await parsed('report', '--title', 'T')).options).toEqual({ title: 'T' });
    const demo = await parsed('demo', '--json');
    expect(demo).toMatchObject({ command: 'run', options: { json: true, signal: demo.signal } });
    expect((demo.options as { config: string }).config).toMatch(/examples\/demo\.yaml$/);
    expect((await parsed('doctor', '--python', 'py')).options).toEqual({ json: false, python: 'py' });
    expect((await parsed('schema', 'suite')).options).toEqual({ kind: 'suite' });
  });
});
