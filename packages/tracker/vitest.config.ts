import { defineProject } from 'vitest/config';
import { sourceResolve, testDefaults } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolve,
  test: { name: '@joules/tracker', ...testDefaults },
});
