import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Experiment } from '@joules/config';
import { LaunchSetupError } from './errors.js';
import { launchDirPrefix, sweepStaleLaunchDirs } from './stale-launch-dirs.js';

/**
 * Write the experiment to a private temp file (own 0700 folder, file mode 0600, unique per
 * launch) and run `use` with its path; the folder is removed afterwards, whatever happens. Its
 * name carries this process's pid and start time: folders left by owners killed with SIGKILL are
 * swept here first (see sweepStaleLaunchDirs).
 */
export async function withPrivateConfigFile<T>(experiment: Experiment, use: (file: string) => Promise<T>): Promise<T> {
  let dir: string;
  await sweepStaleLaunchDirs();
  try {
    dir = await mkdtemp(path.join(os.tmpdir(), launchDirPrefix()));
  } catch (cause) {
    throw new LaunchSetupError(`cannot create a temp folder in ${os.tmpdir()}`, { cause });
  }
  try {
    const file = path.join(dir, 'experiment.json');
    await writeFile(file, `${JSON.stringify(experiment, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
