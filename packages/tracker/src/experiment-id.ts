import { readdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { ResultsFileError } from './errors.js';
import { withLock } from './lock.js';
import { resultsLayout } from './layout.js';

/** Width of experiment ids: 000001 … 999999 sort as text; larger ids simply grow wider. */
export const EXPERIMENT_ID_WIDTH = 6;

export const formatExperimentId = (n: number) => String(n).padStart(EXPERIMENT_ID_WIDTH, '0');

async function highestExistingId(rawDir: string): Promise<number> {
  const names = await readdir(rawDir).catch(() => [] as string[]);
  let max = 0;
  for (const name of names) if (/^\d+$/.test(name)) max = Math.max(max, Number(name));
  return max;
}

/**
 * Allocate the next experiment id under a lock shared by every process using this results
 * folder. Sequential, never reused (the counter only grows, and never falls behind a folder
 * that exists), never null.
 */
export async function allocateExperimentId(resultsDir: string): Promise<string> {
  const layout = resultsLayout(resultsDir);
  return withLock(layout.stateDir, 'experiment-id', async () => {
    let last = 0;
    try {
      const text = (await readFile(layout.counterFile, 'utf8')).trim();
      if (!/^\d+$/.test(text)) throw new ResultsFileError(layout.counterFile, `expected a number, found "${text.slice(0, 20)}"`);
      last = Number(text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const next = Math.max(last, await highestExistingId(layout.rawDir)) + 1;
    await writeFileAtomic(layout.counterFile, `${next}\n`);
    return formatExperimentId(next);
  });
}

