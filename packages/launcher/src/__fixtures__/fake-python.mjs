#!/usr/bin/env node
// Stands in for `python -m joules_worker --config F --output-dir D` (or for `accelerate launch ...`)
// to cause faults a real worker cannot produce on cue. FAKE_SCENARIO picks the behaviour;
// FAKE_ARGV_FILE, when set, receives the argv and selected env as JSON.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const arg = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const out = arg('--output-dir');
const configPath = arg('--config');
const scenario = process.env.FAKE_SCENARIO ?? 'success';
const env = (name) => process.env[name] ?? null;
const config = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : undefined;
if (process.env.FAKE_ARGV_FILE && config) {
  const mode = (statSync(configPath).mode & 0o777).toString(8);
  writeFileSync(
    process.env.FAKE_ARGV_FILE,
    JSON.stringify({
      argv: args,
      configMode: mode,
      config,
      cores: os.availableParallelism(),
      env: {
        ACCELERATE_USE_CPU: env('ACCELERATE_USE_CPU'),
        CUDA_VISIBLE_DEVICES: env('CUDA_VISIBLE_DEVICES'),
        EXTRA: env('EXTRA'),
        JOULES_LAUNCH_ID: env('JOULES_LAUNCH_ID'),
      },
    }),
  );
}
const n = config?.num_processes ?? 1;
const event = (e, rank = 0) =>
  process.stdout.write(JSON.stringify({ v: 1, rank, time: Date.now() / 1000, ...e }) + '\n');
const errorFile = (rank, kind, message) =>
  writeFileSync(
    path.join(out, `error-rank-${rank}.json`),
    JSON.stringify({ schema_version: 1, rank, kind, message, traceback: null }),
  );
const succeed = () => {
  for (let r = 0; r < n; r++) writeFileSync(path.join(out, `rank-${r}.json`), '{}');
  process.exit(0);
};
const hang = () => setInterval(() => {}, 1000);
if (out) mkdirSync(out, { recursive: true });

// A process of the tree: records its pid, and each interrupt signal it gets, in FAKE_PID_DIR.
const pidDir = process.env.FAKE_PID_DIR;
const recordSignals = (exitOnSignal) => {
  writeFileSync(path.join(pidDir, `${process.pid}.pid`), scenario);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      appendFileSync(path.join(pidDir, `${process.pid}.signals`), `${sig}\n`);
      if (exitOnSignal) process.exit(130);
    });
  }
};

const exitWith = /^exit-(\d+)$/.exec(scenario);
if (exitWith) {
  console.error(`Traceback (most recent call last): failing with exit code ${exitWith[1]}`);
  process.exit(Number(exitWith[1]));
}
switch (scenario) {
  case 'success':
    event({ event: 'stage', stage: 'loading_model' });
    console.log('an ordinary log line');
    console.log('{"not": "an event"}');
    event({ event: 'batch', i: 1, n: 1, size: 2, latency_s: 0.01 });
    succeed();
    break;
  case 'oom-rank1': // rank 1 runs out of memory; rank 0's collective then breaks
    errorFile(0, 'other', 'collective operation failed');
    errorFile(1, 'oom', 'CUDA out of memory. Tried to allocate 2.00 GiB');
    event({ event: 'error', kind: 'oom', message: 'CUDA out of memory' });
    process.exit(1);
    break;
  case 'oom-above': {
    // OOM when the config's batch_size is above FAKE_OOM_ABOVE, as the worker would
    appendFileSync(process.env.FAKE_ATTEMPTS_FILE, `${config.batch_size}\n`);
    if (config.batch_size > Number(process.env.FAKE_OOM_ABOVE)) {
      errorFile(0, 'oom', `CUDA out of memory at batch size ${config.batch_size}`);
      process.exit(5);
    }
    succeed();
    break;
  }
  case 'flaky': // fails with FAKE_FLAKY_KIND's exit code until the FAKE_FLAKY_TIMES-th run
  case 'always-timeout': {
    const runs = readFileSync(process.env.FAKE_ATTEMPTS_FILE, { encoding: 'utf8', flag: 'a+' }).split('\n').length;
    appendFileSync(process.env.FAKE_ATTEMPTS_FILE, `${config.batch_size}\n`);
    if (scenario === 'always-timeout') hang();
    else if (runs < Number(process.env.FAKE_FLAKY_TIMES)) process.exit(Number(process.env.FAKE_FLAKY_EXIT));
    else succeed();
    break;
  }
  case 'no-result':
    process.exit(0);
    break;
  case 'garbage':
    process.stdout.write('\u0000\u0001{{{ not json\n{"event": 5}\n');
    process.stderr.write('\u00ff\u00fe binary junk\n');
    process.exit(1);
    break;
  case 'crash':
    process.kill(process.pid, 'SIGSEGV');
    break;
  case 'hang':
    event({ event: 'stage', stage: 'measuring' });
    hang();
    break;
  case 'silent': // says one thing, then nothing at all
    event({ event: 'stage', stage: 'measuring' });
    hang();
    break;
  case 'chatty': // a line at once, then every 50 ms for 3 s: longer than the silence limit, never silent that long
    for (let i = 0; i <= 60; i++) setTimeout(() => event({ event: 'warmup', i: i + 1, n: 61 }), 50 * i);
    setTimeout(succeed, 3050);
    break;
  case 'record': {
    // a GPU job: records its GPUs and start/end times, then succeeds
    const gpus = arg('--gpu_ids') ?? null;
    const start = Date.now();
    setTimeout(
      () => {
        writeFileSync(
          path.join(process.env.FAKE_RECORD_DIR, `${process.pid}.json`),
          JSON.stringify({
            job: config.config_name,
            gpus,
            cvd: env('CUDA_VISIBLE_DEVICES'),
            configGpus: config.gpu_ids,
            port: arg('--main_process_port'),
            start,
            end: Date.now(),
          }),
        );
        succeed();
      },
      Number(process.env.FAKE_SLEEP_MS ?? 300),
    );
    break;
  }
  case 'tree': {
    // like accelerate: a launcher process and a rank in a session of its own
    recordSignals(!process.env.FAKE_STUBBORN_LAUNCHER);
    const rank = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, FAKE_SCENARIO: 'stubborn-rank' },
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    rank.unref();
    event({ event: 'stage', stage: 'measuring' });
    hang();
    break;
  }
  case 'orphan': {
    // the launcher process dies on its own once its rank runs, leaving the rank behind
    writeFileSync(path.join(pidDir, `${process.pid}.pid`), scenario);
    spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, FAKE_SCENARIO: 'stubborn-rank' },
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
    }).unref();
    setInterval(() => readdirSync(pidDir).length >= 2 && process.exit(1), 20);
    break;
  }
  case 'stubborn-rank': // ignores SIGINT and SIGTERM: only SIGKILL stops it
    recordSignals(false);
    event({ event: 'stage', stage: 'measuring' }, 1);
    hang();
    break;
  default:
    process.exit(99);
}
