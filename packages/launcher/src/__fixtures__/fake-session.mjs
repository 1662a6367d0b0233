#!/usr/bin/env node
// Stands in for `python -m joules_worker --config F --output-dir D --session` (or for `accelerate
// launch ... --session`) to cause faults on cue in a given experiment of a session; it speaks the
// real protocol (src/session/README.md). Experiments are numbered from 0.
//   FAKE_SESSION_OOM_AT=i      experiment i runs out of memory (error-rank-0.json kind oom, exit 5)
//   FAKE_SESSION_OOM_ABOVE=b   any experiment whose batch_size is above b runs out of memory
//   FAKE_SESSION_HANG_AT=i     experiment i says one thing, then nothing, forever
//   FAKE_SESSION_STEP_MS=t     each experiment takes t ms, printing a line every 50 ms
//   FAKE_SESSION_EXIT_IDLE=1   exits 0 right after the first experiment, without reading stdin
//   FAKE_SESSION_TREE=dir      starts a child that ignores SIGINT/SIGTERM, its pid in dir
//   FAKE_SESSION_RECORD=file   appends {pid, index, config_name, batch_size} per experiment
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

if (process.env.FAKE_SESSION_ROLE === 'stubborn') {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {});
  writeFileSync(path.join(process.env.FAKE_SESSION_TREE, `${process.pid}.pid`), 'stubborn');
  setInterval(() => {}, 1000);
} else {
  main();
}

function main() {
  const args = process.argv.slice(2);
  const arg = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const env = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
  const event = (e) => process.stdout.write(`${JSON.stringify({ v: 1, rank: 0, time: Date.now() / 1000, ...e })}\n`);
  if (!args.includes('--session')) process.exit(2);
  if (process.env.FAKE_SESSION_TREE) {
    spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, FAKE_SESSION_ROLE: 'stubborn' },
      detached: true,
      stdio: 'ignore',
    }).unref();
  }
  let index = 0;

  const runOne = (config, out) =>
    new Promise((resolve) => {
      mkdirSync(out, { recursive: true });
      if (process.env.FAKE_SESSION_RECORD) {
        const row = { pid: process.pid, index, config_name: config.config_name, batch_size: config.batch_size };
        appendFileSync(process.env.FAKE_SESSION_RECORD, `${JSON.stringify(row)}\n`);
      }
      console.error(`=== session experiment ${index}: ${config.config_name} -> ${out}`);
      event({ event: 'stage', stage: 'measuring' });
      if (env('FAKE_SESSION_HANG_AT') === index) return setInterval(() => {}, 1000);
      if (env('FAKE_SESSION_OOM_AT') === index || config.batch_size > (env('FAKE_SESSION_OOM_ABOVE') ?? Infinity)) {
        const message = `CUDA out of memory at batch size ${config.batch_size}`;
        writeFileSync(
          path.join(out, 'error-rank-0.json'),
          JSON.stringify({ schema_version: 2, rank: 0, kind: 'oom', message, traceback: null }),
        );
        event({ event: 'error', kind: 'oom', message });
        process.exit(5);
      }
      const step = env('FAKE_SESSION_STEP_MS') ?? 0;
      const ticker = setInterval(() => event({ event: 'warmup', i: 1, n: 1 }), 50);
      setTimeout(() => {
        clearInterval(ticker);
        writeFileSync(path.join(out, 'rank-0.json'), '{}');
        const dir = path.resolve(out);
        event({
          event: 'experiment_done',
          index,
          output_dir: dir,
          rank_files: [path.join(dir, 'rank-0.json')],
          model_reused: index > 0,
          model_load_s: index > 0 ? 0 : 0.5,
        });
        index++;
        resolve();
      }, step);
    });

  const queue = [];
  let waiting;
  const lines = createInterface({ input: process.stdin });
  const deliver = (line) => {
    const w = waiting;
    waiting = undefined;
    if (w) w(line);
    else queue.push(line);
  };
  let closed = false;
  lines.on('line', deliver);
  lines.on('close', () => {
    closed = true;
    if (waiting) deliver(null);
  });
  const next = () => {
    if (queue.length) return Promise.resolve(queue.shift());
    if (closed) return Promise.resolve(null);
    return new Promise((r) => {
      waiting = r;
    });
  };

  (async () => {
    while (process.env.FAKE_SESSION_TREE && readdirSync(process.env.FAKE_SESSION_TREE).length === 0) {
      await new Promise((r) => setTimeout(r, 20)); // the child is up (its pid written) before anything runs
    }
    await runOne(JSON.parse(readFileSync(arg('--config'), 'utf8')), arg('--output-dir'));
    if (process.env.FAKE_SESSION_EXIT_IDLE) process.exit(0);
    for (;;) {
      const line = await next();
      if (line === null) process.exit(0);
      const message = JSON.parse(line);
      await runOne(message.experiment, message.output_dir);
    }
  })();
}
