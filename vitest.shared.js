// Tests and typecheck run against each package's source: the "@joules/source" export condition
// (also in tsconfig.base.json customConditions) points at src/index.ts.
import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';

const conditions = ['@joules/source', ...defaultServerConditions];

export const sourceResolve = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@joules/source'] } },
};

// A generous per-test limit: property tests and subprocess tests slow down on a loaded 2-core
// machine. Tests check behaviour, never speed (speed lives in bench/).
// Each test file runs with its own TMPDIR, removed afterwards (vitest.temp-root.js).
export const testDefaults = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  setupFiles: [fileURLToPath(new URL('./vitest.temp-root.js', import.meta.url))],
  globalSetup: [fileURLToPath(new URL('./vitest.temp-run-root.js', import.meta.url))],
};
