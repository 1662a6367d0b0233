import { spawn } from 'node:child_process';
import { defaultPython, KIT_PYTHONPATH, REPO_ROOT } from './paths.js';

export interface KitOptions {
  out: string;
  cpu: boolean;
  python?: string;
  /** More flags for `python -m gpu_check` (e.g. --budget-s). */
  extraArgs?: string[];
  /** Aborting sends SIGTERM: the kit stops its current worker and still writes its files. */
  signal?: AbortSignal;
  /** Where the kit's stderr (its log) goes; default: inherited. */
  onLog?: (chunk: string) => void;
}

/** Run the Python part (`python -m gpu_check`) and resolve with its exit code. */
export function runKit(options: KitOptions): Promise<number> {
  const args = [
    '-m',
    'gpu_check',
    '--out',
    options.out,
    ...(options.cpu ? ['--cpu'] : []),
    ...(options.extraArgs ?? []),
  ];
  const env = { ...process.env, PYTHONPATH: [KIT_PYTHONPATH, process.env.PYTHONPATH].filter(Boolean).join(':') };
  return new Promise((resolve, reject) => {
    const child = spawn(options.python ?? defaultPython(), args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'inherit', options.onLog ? 'pipe' : 'inherit'],
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => options.onLog?.(chunk));
    const stop = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', stop);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
