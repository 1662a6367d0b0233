// Child process for stale-launch-dirs.test.ts: writes a private config file, prints its path,
// then waits (to be killed with SIGKILL, so its cleanup never runs).
import { withPrivateConfigFile } from '../private-config-file.js';
import { experiment } from './helpers.js';

await withPrivateConfigFile(experiment(), async (file) => {
  process.stdout.write(`${file}\n`);
  await new Promise(() => setTimeout(() => {}, 600_000));
});
