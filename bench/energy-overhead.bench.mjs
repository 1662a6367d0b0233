// P7: what energy tracking costs in tokens/s (goal: < 1 %). Spawns python/bench/energy_overhead.py,
// which runs the same tiny-model workload with tracking off and with each backend, alternating,
// >= 5 rounds, and prints one JSON object; this wrapper only turns it into samples.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const title = 'P7 energy tracking overhead (tokens/s)';
const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;

export async function run() {
  const python = path.join(root, 'python', '.venv', 'bin', 'python');
  const script = path.join(root, 'python', 'bench', 'energy_overhead.py');
  const stdout = execFileSync(python, [script, '--runs', String(RUNS)], {
    cwd: root,
    env: { ...process.env, HF_HUB_OFFLINE: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1));
  const out = [];
  for (const [name, samples] of Object.entries(result.tokens_per_s)) {
    out.push({ name: `tokens/s, energy tracking ${name}`, unit: 'tok/s', samples });
  }
  for (const [name, samples] of Object.entries(result.cost_pct)) {
    out.push({ name: `tokens/s cost of ${name} vs off (same round)`, unit: '%', samples, goal: '< 1' });
  }
  return out;
}
