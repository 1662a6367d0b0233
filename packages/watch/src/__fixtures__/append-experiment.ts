import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_COLUMNS } from '@joules/metrics';
import { DEMO_ROW } from '@joules/test-utils/study-folder';
import { csvLine, progressKey } from '@joules/tracker';

/**
 * One new experiment done, as a suite writes it (without the lock: tests only): its result row
 * (the demo's row with this id, model, configuration and J/token) appended to the results CSV,
 * then its journal line. Returns its key.
 */
export async function appendExperiment(
  dir: string,
  e: { id: string; model: string; config: string; cycle: number; suite?: string; perToken?: number; journal?: boolean },
): Promise<string> {
  const suite = e.suite ?? 'study';
  const row: Record<string, unknown> = {
    ...DEMO_ROW,
    experiment_id: e.id,
    model_name: e.model,
    config_name: e.config,
    cycle_id: e.cycle,
    suite,
    ...(e.perToken !== undefined && { energy_per_token_j: e.perToken }),
  };
  const cells = RESULT_COLUMNS.map((c) => (row[c] === undefined ? null : (row[c] as string | number | boolean | null)));
  await appendFile(path.join(dir, 'text_generation_results.csv'), csvLine(cells));
  const key = progressKey({ model_name: e.model, suite, config_name: e.config, cycle_id: e.cycle });
  if (e.journal !== false) {
    const now = new Date().toISOString();
    const entry = { key, status: 'done', rev: 3, configHash: 'new', experimentId: e.id, attempts: 1 };
    const times = { createdAt: now, updatedAt: now, startedAt: now, finishedAt: now };
    await appendFile(path.join(dir, '.joules', 'progress.jsonl'), `${JSON.stringify({ ...entry, ...times })}\n`);
  }
  return key;
}
