import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitError, EXIT } from './errors.js';

/** The repository root when the CLI runs from a checkout (packages/cli/{src,dist}/…). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface WorkerEnv {
  python: string;
  accelerate: string;
}

/**
 * The Python that runs the worker: `--python`, else $JOULES_PYTHON, else the checkout's
 * `python/.venv` made by `npm run bootstrap`. `accelerate` sits beside it.
 */
export async function resolveWorkerEnv(pythonFlag?: string, env: NodeJS.ProcessEnv = process.env): Promise<WorkerEnv> {
  const python = path.resolve(pythonFlag ?? env.JOULES_PYTHON ?? path.join(repoRoot, 'python', '.venv', 'bin', 'python'));
  const accelerate = path.join(path.dirname(python), 'accelerate');
  for (const file of [python, accelerate]) {
    try {
      await access(file, constants.X_OK);
    } catch {
      throw new ExitError(
        EXIT.failed,
        `worker environment not found: ${file} is missing.\n` +
          `Run \`npm run bootstrap\` in the Joules checkout, or point --python / JOULES_PYTHON at a Python ` +
          `with joules_worker, torch, transformers and accelerate installed.`,
      );
    }
  }
  return { python, accelerate };
}
