import type { UserConfig } from 'vite';
export declare const sourceResolve: Pick<UserConfig, 'resolve' | 'ssr'>;
export declare const testDefaults: {
  testTimeout: number;
  hookTimeout: number;
  setupFiles: string[];
  globalSetup: string[];
};
