import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findServingEngines } from './serving-engines.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('findServingEngines', () => {
  it('finds the executables on the given folders first, then PATH; a non-executable file does not count', async () => {
    const a = await mkdtemp(path.join(os.tmpdir(), 'joules-engines-'));
    const b = await mkdtemp(path.join(os.tmpdir(), 'joules-engines-'));
    dirs.push(a, b);
    await writeFile(path.join(a, 'vllm'), '#!/bin/sh\n');
    await chmod(path.join(a, 'vllm'), 0o755);
    await writeFile(path.join(b, 'llama-server'), 'not executable');
    await writeFile(path.join(b, 'transformers'), '#!/bin/sh\n');
    await chmod(path.join(b, 'transformers'), 0o755);
    const found = Object.fromEntries((await findServingEngines([a], b)).map((e) => [e.bin, e.path]));
    expect(found).toEqual({
      transformers: path.join(b, 'transformers'),
      vllm: path.join(a, 'vllm'),
      sglang: null,
      'text-generation-launcher': null,
      'llama-server': null,
    });
  });
});
