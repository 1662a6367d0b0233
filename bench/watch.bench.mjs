// Issue 17: what the live dashboard costs a running suite. The same small suite (one tiny model,
// 4 configurations, python launcher, energy none) runs through the real bin without and with
// `--watch` and 10 connected event-stream clients, in ABBA order; samples are the per-pair ratios.
// Wall time on a shared machine is noisy, so the `joules` process's own CPU time (read from
// /proc/<pid>/stat until it exits; workers excluded) is measured too: the watch's extra CPU seconds
// over the suite's wall time bound what it can cost the suite even when cores are scarce.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@joules/launcher';

export const title = 'Issue 17: suite with --watch and 10 clients ÷ without';
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'packages/cli/bin/joules.js');
const PAIRS = Number(process.env.JOULES_BENCH_WATCH_PAIRS ?? 3);
const CLIENTS = 10;

const suiteYaml = () =>
  [
    'name: bench-watch',
    'cycles: 1',
    'models:',
    `  - ${path.join(root, '.joules/models/tiny-llama')}`,
    'base:',
    '  num_input_prompts: 8',
    '  max_input_tokens: 64',
    '  max_output_tokens: 8',
    '  min_output_tokens: 8',
    '  warmup_iterations: 1',
    '  energy: { backend: none }',
    '  launch: { launcher: python }',
    'scenarios:',
    '  b1: { batch_size: 1 }',
    '  b2: { batch_size: 2 }',
    '  b4: { batch_size: 4 }',
    '  b8: { batch_size: 8 }',
    '',
  ].join('\n');

/** One event-stream client that reads everything (as a browser tab would) and counts its updates (the status, then deltas). */
function client(port, stats) {
  const connect = () => {
    const req = get({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      stats.connected++;
      res
        .setEncoding('utf8')
        .on('data', (chunk) => (stats.updates += chunk.match(/^event: (status|delta)$/gm)?.length ?? 0));
      res.on('error', () => {});
    });
    req.on('error', () => setTimeout(connect, 20)); // not listening yet: retry
    stats.requests.push(req);
  };
  connect();
}

async function runSuite(file, results, watch) {
  const args = ['suite', file, '--results-dir', results];
  const stats = { connected: 0, updates: 0, requests: [] };
  let port;
  if (watch) {
    port = await freePort();
    args.push('--watch', String(port));
  }
  const t0 = performance.now();
  let cpuTicks = 0;
  let child;
  const done = new Promise((resolve, reject) => {
    child = execFile(process.execPath, [bin, ...args], { env: { ...process.env, HF_HUB_OFFLINE: '1' } }, (error) =>
      error ? reject(error) : resolve(),
    );
  });
  const sampler = setInterval(() => {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime of the joules process itself
    } catch {}
  }, 100);
  if (watch) for (let i = 0; i < CLIENTS; i++) client(port, stats);
  await done.finally(() => clearInterval(sampler));
  const seconds = (performance.now() - t0) / 1000;
  for (const r of stats.requests) r.destroy();
  if (watch && (stats.connected !== CLIENTS || stats.updates < CLIENTS))
    throw new Error(`watch clients: ${stats.connected} connected, ${stats.updates} status updates`);
  return { seconds, cpu: cpuTicks / 100, updates: stats.updates }; // USER_HZ = 100 on Linux
}

export async function run() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-bench-watch-'));
  try {
    const file = path.join(tmp, 'suite.yaml');
    writeFileSync(file, suiteYaml());
    const without = [];
    const withWatch = [];
    const cpu = { with: [], without: [] };
    let updates = 0;
    let n = 0;
    for (let pair = 0; pair < PAIRS; pair++) {
      for (const watch of pair % 2 ? [true, false] : [false, true]) {
        const r = await runSuite(file, path.join(tmp, `results-${n++}`), watch);
        (watch ? withWatch : without).push(r.seconds);
        cpu[watch ? 'with' : 'without'].push(r.cpu);
        updates += r.updates;
        process.stderr.write(
          `[bench watch] pair ${pair + 1}/${PAIRS} ${watch ? 'with' : 'without'}: ${r.seconds.toFixed(2)} s, joules process CPU ${r.cpu.toFixed(2)} s\n`,
        );
      }
    }
    return [
      { name: 'suite of 4 experiments, without --watch', unit: 's', samples: without },
      { name: `suite of 4 experiments, --watch + ${CLIENTS} clients`, unit: 's', samples: withWatch },
      { name: `status updates received per client per run`, unit: '', samples: [updates / CLIENTS / PAIRS] },
      {
        name: `with --watch + ${CLIENTS} clients ÷ without (per pair)`,
        unit: '×',
        samples: without.map((w, i) => withWatch[i] / w),
        goal: '≤ 1.02',
        ratio: true,
      },
      {
        name: `all runs: total with --watch ÷ total without`,
        unit: '×',
        samples: [withWatch.reduce((a, b) => a + b, 0) / without.reduce((a, b) => a + b, 0)],
        ratio: true,
      },
      { name: 'joules process CPU, without --watch', unit: 's', samples: cpu.without },
      { name: `joules process CPU, --watch + ${CLIENTS} clients`, unit: 's', samples: cpu.with },
      {
        name: "the watch's extra CPU ÷ the suite's wall time (per pair)",
        unit: '×',
        samples: without.map((w, i) => (cpu.with[i] - cpu.without[i]) / w),
        goal: '≤ 0.02',
        ratio: true,
      },
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
