// Tests and typecheck run against each package's source: the "@joules/source" export condition
// (also in tsconfig.base.json customConditions) points at src/index.ts.
import { defaultServerConditions } from 'vite';

const conditions = ['@joules/source', ...defaultServerConditions];

export const sourceResolve = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@joules/source'] } },
};
