#!/usr/bin/env node
// Stands in for `python -m joules_worker --config F --output-dir D` (or for `accelerate launch ...`)
// to cause faults a real worker cannot produce on cue. FAKE_SCENARIO picks the behaviour;
// FAKE_ARGV_FILE, when set, receives the argv and selected env as JSON.
import { mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const arg = (name) => args[args.indexOf(name) + 1];
const out = arg('--output-dir');
const configPath = arg('--config');
if (process.env.FAKE_ARGV_FILE) {
  const mode = (statSync(configPath).mode & 0o777).toString(8);
  writeFileSync(process.env.FAKE_ARGV_FILE, JSON.stringify({
    argv: args, configMode: mode, config: JSON.parse(readFileSync(configPath, 'utf8')),
    env: { ACCELERATE_USE_CPU: process.env.ACCELERATE_USE_CPU ?? null, CUDA_VISIBLE_DEVICES: process.env.CUDA_VISIBLE_DEVICES ?? null, EXTRA: process.env.EXTRA ?? null },
  }));
}
const n = JSON.parse(readFileSync(configPath, 'utf8')).num_processes;
const event = (e) => process.stdout.write(JSON.stringify({ v: 1, rank: 0, time: Date.now() / 1000, ...e }) + '\n');
const errorFile = (rank, kind, message) =>
  writeFileSync(path.join(out, `error-rank-${rank}.json`), JSON.stringify({ schema_version: 1, rank, kind, message, traceback: null }));
mkdirSync(out, { recursive: true });

switch (process.env.FAKE_SCENARIO ?? 'success') {
  case 'success':
    event({ event: 'stage', stage: 'loading_model' });
    console.log('an ordinary log line');
    console.log('{"not": "an event"}');
    event({ event: 'batch', i: 1, n: 1, size: 2, latency_s: 0.01 });
    for (let r = 0; r < n; r++) writeFileSync(path.join(out, `rank-${r}.json`), '{}');
    process.exit(0);
  case 'oom-rank1': // rank 1 runs out of memory; rank 0's collective then breaks
    errorFile(0, 'other', 'collective operation failed');
    errorFile(1, 'oom', 'CUDA out of memory. Tried to allocate 2.00 GiB');
    event({ event: 'error', kind: 'oom', message: 'CUDA out of memory' });
    process.exit(1);
  case 'exit-3':
    console.error('Traceback (most recent call last): bad config');
    process.exit(3);
  case 'no-result':
    process.exit(0);
  case 'garbage':
    process.stdout.write('\u0000\u0001{{{ not json\n{"event": 5}\n');
    process.exit(7);
  case 'hang':
    event({ event: 'stage', stage: 'measuring' });
    setInterval(() => {}, 1000);
    break;
  default:
    process.exit(99);
}
