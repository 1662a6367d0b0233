import { defineProject } from 'vitest/config';
import { sourceResolve, testDefaults } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolve,
  test: {
    name: '@joules/launcher',
    ...testDefaults,
    setupFiles: [...testDefaults.setupFiles, './src/__fixtures__/temp-cleanup.ts'],
  },
});
