import { InvalidArgumentError } from 'commander';
import type { OptionSpec } from './command-spec.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const intAtLeast1 = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer >= 1, got "${value}"`);
  return n;
};

export const portNumber = (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got "${value}"`);
  return n;
};

export const gpuList = (value: string) => {
  const gpus = value.split(',').map((g) => Number(g.trim()));
  if (gpus.some((g) => !Number.isInteger(g) || g < 0))
    throw new InvalidArgumentError(`expected GPU indices like 0,1,2, got "${value}"`);
  return gpus;
};

/** The flags several commands take, each declared once; commands pick the ones they take. */
export const FLAGS = {
  resultsDir: { flags: '--results-dir <dir>', description: 'results folder (default: ./results)' },
  json: { flags: '--json', description: 'machine-readable output on stdout' },
  python: {
    flags: '--python <path>',
    description: 'the Python that runs the worker (default: $JOULES_PYTHON, else python/.venv)',
  },
  set: { flags: '--set <path=value>', description: 'override a config value (repeatable)', parse: collect },
  dryRun: { flags: '--dry-run', description: 'print the command lines and config; launch nothing' },
  skipInvalid: { flags: '--skip-invalid', description: 'drop invalid suite combinations instead of refusing the file' },
  maxParallel: { flags: '--max-parallel <n>', description: 'experiments at once', parse: intAtLeast1 },
} as const satisfies Record<string, OptionSpec>;
