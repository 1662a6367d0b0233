// Vitest setup file (vitest.config.ts): after each test file, its temp folders go.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dirs.js';

afterAll(removeTempDirs);
