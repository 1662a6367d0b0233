// Records experiments of a fixed suite until done (or killed): resume, then for each key to run:
// start → commit (folder, manifest, CSV row) → finish → print "ack". Some keys fail their first
// attempt on purpose (failure log + journal). Usage: crash-child.ts <resultsDir>
import { writeSync } from 'node:fs';
import path from 'node:path';
// Modules imported one by one (not index.ts): the child then starts without zod and metrics.
import { recordFailure } from '../failure-log.js';
import { resumeSuite } from '../progress/resume-suite.js';
import { commitExperiment } from '../raw/commit.js';
import { CRASH_COLUMNS, crashSuite } from './crash-suite.js';

async function main(resultsDir: string): Promise<void> {
  writeSync(1, 'loaded\n');
  const suite = crashSuite();
  const { journal, plan } = await resumeSuite(resultsDir, suite, { rerunFailed: true });
  const failsFirst = new Set(suite.filter((s) => s.failsFirst).map((s) => s.key));
  for (const item of plan.run) {
    const started = await journal.start(item.key, { configHash: item.configHash });
    if (!started.started) continue;
    const { experimentId: id, attempts } = started.entry;
    const model = item.key.split('::')[0]!;
    if (failsFirst.has(item.key) && attempts === 1) {
      await recordFailure(resultsDir, {
        experimentId: id!,
        configName: item.key,
        modelName: model,
        attempt: 1,
        kind: 'oom',
        message: 'CUDA out of memory,\n"tried" to allocate',
        config: { key: item.key },
        final: false,
      });
      await journal.finish(item.key, id!, 'failed', { error: 'oom' });
      writeSync(1, `fail ${id} ${item.key}\n`);
      continue;
    }
    await commitExperiment(resultsDir, {
      experimentId: id!,
      documents: {
        '1_experiment_setup': { experiment_id: id, key: item.key, attempts },
        '7_global_energy_results': { experiment_id: id, energy_total_j: attempts * 1.5, notes: ['a, "b"'] },
      },
      csvFile: path.join(resultsDir, 'crash_results.csv'),
      columns: CRASH_COLUMNS,
      row: [id!, item.key, model, 'comma, "quote"\nand newline', attempts],
    });
    await journal.finish(item.key, id!, 'done');
    writeSync(1, `ack ${id} ${item.key}\n`);
  }
  writeSync(1, 'complete\n');
}

await main(process.argv[2]!);
