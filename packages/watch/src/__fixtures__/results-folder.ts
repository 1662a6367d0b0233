import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_COLUMNS } from '@joules/metrics';
import { appendCsvRows, ProgressJournal, progressKey, recordFailure } from '@joules/tracker';

/**
 * A small real results folder written through @joules/tracker: `done` experiments with a CSV row
 * each (energy 10 J × i), `failed` ones with a failure row, `pending` ones registered only.
 */
export async function makeResultsFolder(
  dir: string,
  counts: { done: number; failed: number; pending: number; suite?: string },
): Promise<{ keys: string[] }> {
  const suite = counts.suite ?? 'demo';
  const journal = await ProgressJournal.open(dir);
  const keys: string[] = [];
  const n = counts.done + counts.failed + counts.pending;
  for (let i = 0; i < n; i++)
    keys.push(
      progressKey({ model_name: 'org/tiny', suite, config_name: `bs${1 << (i % 3)}`, cycle_id: 1 + Math.floor(i / 3) }),
    );
  await journal.register(keys.map((key) => ({ key, configHash: 'h' })));
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  for (const [i, key] of keys.entries()) {
    if (i >= counts.done + counts.failed) break;
    const { entry } = await journal.start(key, { configHash: 'h' });
    const id = entry.experimentId!;
    const config = `bs${1 << (i % 3)}`;
    if (i < counts.done) {
      const row: Record<string, unknown> = Object.fromEntries(RESULT_COLUMNS.map((c) => [c, null]));
      Object.assign(row, {
        experiment_id: id,
        config_name: config,
        model_name: 'org/tiny',
        suite,
        cycle_id: 1 + Math.floor(i / 3),
        batch_size: 1 << (i % 3),
        energy_total_j: 10 * (i + 1),
        energy_per_token_j: 0.01 * (i + 1),
      });
      await appendCsvRows(path.join(dir, 'text_generation_results.csv'), RESULT_COLUMNS, [
        RESULT_COLUMNS.map((c) => row[c] as string | number | null),
      ]);
      await journal.finish(key, id, 'done');
    } else {
      await recordFailure(dir, {
        experimentId: id,
        configName: config,
        modelName: 'org/tiny',
        attempt: 1,
        kind: i % 2 ? 'oom' : 'other',
        message: `boom <b>${i}</b>`,
        config: {},
      });
      await writeFile(path.join(dir, 'logs', `${id}.log`), `log of ${id}\n`);
      await journal.finish(key, id, 'failed', { error: 'boom' });
    }
  }
  return { keys };
}
