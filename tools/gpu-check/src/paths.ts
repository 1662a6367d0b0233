import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tools/gpu-check/src/paths.ts or tools/gpu-check/dist/paths.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KIT_PYTHONPATH = join(REPO_ROOT, 'tools', 'gpu-check', 'python');
export const EXPERIMENTS_FILE = join(REPO_ROOT, 'tools', 'gpu-check', 'experiments.json');
export const DEFAULT_DOC = join(REPO_ROOT, 'docs', 'gpu-validation.md');

/** The worker's venv Python here; `python3` where there is none (the GPU machine). */
export function defaultPython(): string {
  const venv = join(REPO_ROOT, 'python', '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}
