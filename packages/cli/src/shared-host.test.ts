import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

const made: string[] = [];
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

describe('joules suite --max-parallel with a host-level energy backend', () => {
  it('exits 2 before running anything, naming the flag, the backend and the opt-in', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-cli-shared-'));
    made.push(dir);
    const file = path.join(dir, 'suite.yaml');
    await writeFile(
      file,
      'name: s\nmodels: [org/model]\nbase:\n  energy: { backend: rapl }\nscenarios:\n  a: {}\n  b: { batch_size: 2 }\n',
    );
    const output = captureOutput();
    const code = await runMain(
      ['suite', file, '--max-parallel', '3', '--results-dir', path.join(dir, 'results')],
      output,
    );
    expect(code).toBe(2);
    expect(output.stderr.join('\n')).toMatch(
      /--max-parallel 3 with energy\.backend rapl: .*energy\.allow_shared_host: true/,
    );
    expect(await readdir(dir)).toEqual(['suite.yaml']);
  });
});
