import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultsFileError } from './errors.js';
import { allocateExperimentId } from './experiment-id.js';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'joules-id-'));

describe('allocateExperimentId', () => {
  it('is sequential and zero-padded from 000001', async () => {
    const dir = await tmp();
    expect(await allocateExperimentId(dir)).toBe('000001');
    expect(await allocateExperimentId(dir)).toBe('000002');
    expect((await readFile(path.join(dir, '.joules', 'last_experiment_id'), 'utf8')).trim()).toBe('2');
  });

  it('gives 30 concurrent callers 30 distinct consecutive ids', async () => {
    const dir = await tmp();
    const ids = await Promise.all(Array.from({ length: 30 }, () => allocateExperimentId(dir)));
    expect(new Set(ids).size).toBe(30);
    expect([...ids].sort()).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1).padStart(6, '0')));
  });

  it('never reuses an id whose folder exists, even if the counter was lost', async () => {
    const dir = await tmp();
    await mkdir(path.join(dir, 'raw_results', '000041'), { recursive: true });
    expect(await allocateExperimentId(dir)).toBe('000042');
  });

  it('refuses a corrupt counter instead of guessing', async () => {
    const dir = await tmp();
    await mkdir(path.join(dir, '.joules'));
    await writeFile(path.join(dir, '.joules', 'last_experiment_id'), 'banana');
    await expect(allocateExperimentId(dir)).rejects.toBeInstanceOf(ResultsFileError);
  });
});
