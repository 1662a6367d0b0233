import { readdir, readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { ResultsFileError } from './errors.js';
import { type ResultsLayout, resultsLayout } from './layout.js';
import { withLock } from './lock.js';

/** Width of experiment ids: 000001 … 999999 sort as text; larger ids simply grow wider. */
export const EXPERIMENT_ID_WIDTH = 6;

export const formatExperimentId = (n: number) => String(n).padStart(EXPERIMENT_ID_WIDTH, '0');

/** Highest id any folder carries (finished, being built, or set aside as incomplete). */
async function highestExistingId(layout: ResultsLayout): Promise<number> {
  let max = 0;
  for (const dir of [layout.rawDir, layout.stagingDir, layout.incompleteDir]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const digits = /^(\d+)(?:$|[-.])/.exec(name)?.[1];
      if (digits) max = Math.max(max, Number(digits));
    }
  }
  return max;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/**
 * Allocate the next experiment id under a lock shared by every process using this results
 * folder. Sequential, never reused (the counter only grows, and never falls behind a folder
 * that exists), never null. Constant cost: the folders are scanned only when the counter is
 * missing or behind.
 */
export async function allocateExperimentId(resultsDir: string): Promise<string> {
  const layout = resultsLayout(resultsDir);
  return withLock(layout.stateDir, 'experiment-id', async () => {
    let last: number | undefined;
    try {
      const text = (await readFile(layout.counterFile, 'utf8')).trim();
      if (!/^\d+$/.test(text))
        throw new ResultsFileError(layout.counterFile, `expected a number, found "${text.slice(0, 20)}"`);
      last = Number(text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    let next = (last ?? 0) + 1;
    if (last === undefined || (await exists(layout.experimentDir(formatExperimentId(next))))) {
      next = Math.max(next, (await highestExistingId(layout)) + 1);
    }
    await writeFileAtomic(layout.counterFile, `${next}\n`);
    return formatExperimentId(next);
  });
}
