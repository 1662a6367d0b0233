// One of several processes writing into the same results folder at once.
// Usage: concurrent-writer.ts <resultsDir> <name> <count>; prints "<id> <key>" per experiment.
import { writeSync } from 'node:fs';
import path from 'node:path';
import { allocateExperimentId, appendCsvRows, commitExperiment, ProgressJournal, progressKey } from '../index.js';

const [resultsDir, name, count] = process.argv.slice(2) as [string, string, string];
const journal = await ProgressJournal.open(resultsDir);
const payload = `${name}:`.padEnd(6000, name.slice(-1)); // rows far above PIPE_BUF
for (let i = 0; i < Number(count); i++) {
  if (i % 2 === 0) {
    // Through the journal and the full commit protocol.
    const key = progressKey({ model_name: name, suite: 'conc', config_name: `c${i}`, cycle_id: 1 });
    const started = await journal.start(key, { configHash: 'h' });
    if (!started.started) throw new Error(`${key} not started`);
    const id = started.entry.experimentId!;
    await commitExperiment(resultsDir, {
      experimentId: id,
      documents: { doc: { id, payload } },
      csvFile: path.join(resultsDir, 'conc_results.csv'),
      columns: ['experiment_id', 'writer', 'payload'],
      row: [id, name, payload],
    });
    await journal.finish(key, id, 'done');
    writeSync(1, `${id} ${key}\n`);
  } else {
    // Bare id allocation and CSV append.
    const id = await allocateExperimentId(resultsDir);
    await appendCsvRows(
      path.join(resultsDir, 'conc_results.csv'),
      ['experiment_id', 'writer', 'payload'],
      [[id, name, payload]],
    );
    writeSync(1, `${id} -\n`);
  }
}
