// Starts a progress key and, with "exit", exits at once leaving it running (a crashed owner);
// otherwise prints "started" and waits until stdin closes. Usage: hold-key.ts <resultsDir> <key> [exit]
import { writeSync } from 'node:fs';
import { ProgressJournal } from '../index.js';

const [resultsDir, key, mode] = process.argv.slice(2) as [string, string, string | undefined];
const journal = await ProgressJournal.open(resultsDir);
const started = await journal.start(key, { configHash: 'h1' });
writeSync(1, `started ${started.started ? started.entry.experimentId : 'no'}\n`);
if (mode !== 'exit') {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
}
