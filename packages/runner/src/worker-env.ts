import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerEnvError } from './errors.js';

/** The repository root when the runner runs from a checkout (packages/runner/{src,dist}/…). */
export const checkoutRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface WorkerEnv {
  python: string;
  accelerate: string;
}

/**
 * The Python that runs the worker: `python` (the CLI's --python), else $JOULES_PYTHON, else the
 * checkout's `python/.venv` made by `npm run bootstrap`. `accelerate` sits beside it.
 */
export async function resolveWorkerEnv(pythonFlag?: string, env: NodeJS.ProcessEnv = process.env): Promise<WorkerEnv> {
  const python = path.resolve(
    pythonFlag ?? env.JOULES_PYTHON ?? path.join(checkoutRoot, 'python', '.venv', 'bin', 'python'),
  );
  const accelerate = path.join(path.dirname(python), 'accelerate');
  for (const file of [python, accelerate]) {
    try {
      await access(file, constants.X_OK);
    } catch {
      throw new WorkerEnvError(file);
    }
  }
  return { python, accelerate };
}
