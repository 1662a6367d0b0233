import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type FailureKind, type WorkerErrorFile, WorkerErrorFileSchema } from './worker-events.js';

/** Exit codes of `python -m joules_worker` (contract v2); accelerate turns them all into 1. */
export const WORKER_EXIT_CODES: Readonly<Record<number, FailureKind>> = {
  3: 'bad_config',
  4: 'model_not_found',
  5: 'oom',
  6: 'dataset',
  7: 'transient',
  8: 'unsupported',
  9: 'server_error',
};

/**
 * The most telling failure first: an OOM on one rank explains the others' broken collectives;
 * a final cause (bad config, no model) beats a transient one; `other` says least.
 */
const PRIORITY: readonly FailureKind[] = [
  'oom',
  'model_not_found',
  'bad_config',
  'dataset',
  'unsupported',
  'server_error',
  'transient',
  'other',
];

export async function readWorkerErrors(outputDir: string): Promise<WorkerErrorFile[]> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  const errors: WorkerErrorFile[] = [];
  for (const name of names.filter((n) => /^error-rank-\d+\.json$/.test(n)).sort()) {
    try {
      const parsed = WorkerErrorFileSchema.safeParse(JSON.parse(await readFile(path.join(outputDir, name), 'utf8')));
      if (parsed.success) errors.push(parsed.data);
    } catch {
      // A torn error file says nothing reliable; the exit code still does.
    }
  }
  return errors.sort((a, b) => PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind) || a.rank - b.rank);
}

export function kindFromExitCode(exitCode: number | null): FailureKind | undefined {
  return exitCode === null ? undefined : WORKER_EXIT_CODES[exitCode];
}

/** `rank-<r>.json` paths for ranks 0..n-1, and which are missing. */
export async function rankFiles(outputDir: string, n: number): Promise<{ files: string[]; missing: number[] }> {
  const names = new Set(await readdir(outputDir).catch(() => [] as string[]));
  const files: string[] = [];
  const missing: number[] = [];
  for (let r = 0; r < n; r++) {
    if (names.has(`rank-${r}.json`)) files.push(path.join(outputDir, `rank-${r}.json`));
    else missing.push(r);
  }
  return { files, missing };
}
