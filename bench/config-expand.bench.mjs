// C1: suite expansion at the scale of the original study: 4 models × a 1,056-configuration grid ×
// 5 cycles = 21,120 validated experiments, each with its key and config hash. Goal: under 2 s.
//   expandSuite   the parsed suite → experiments (what `joules run suite.yaml` does after loading)
//   load+expand   the same from a YAML file on disk (read, extends, --set, checks, expansion)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandSuite, loadSuiteFile, parseSuite } from '@joules/config';
import { stringify } from 'yaml';

export const title = 'C1 suite expansion (4 models × 1,056 grid configurations × 5 cycles)';
const RUNS = 7;

const suiteInput = {
  name: 'bench-grid',
  cycles: 5,
  shuffle: true,
  shuffle_seed: 1,
  models: [
    'meta-llama/Llama-3.2-1B',
    'meta-llama/Llama-3.2-3B',
    { model_name: 'meta-llama/Llama-3.1-8B', label: 'llama-8b' },
    'mistralai/Mistral-7B-v0.3',
  ],
  base: {
    num_input_prompts: 256,
    max_input_tokens: 512,
    min_output_tokens: 0,
    gpu_ids: [0],
    precision: 'fp16',
    decoding: { mode: 'sampling' },
  },
  grid: {
    batch_size: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64], // 11
    max_output_tokens: [16, 32, 64, 128, 256, 512], // 6
    'decoding.temperature': [0.3, 0.7, 1.0, 1.3], // 4
    'traffic.delay_max_ms': [0, 50, 100, 200], // 4  → 11 × 6 × 4 × 4 = 1,056
  },
};

export async function run() {
  const parsed = parseSuite(suiteInput);
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-bench-c1-'));
  const file = path.join(tmp, 'suite.yaml');
  writeFileSync(file, stringify(suiteInput));
  const expand = [];
  const load = [];
  let count = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      const x = expandSuite(parsed.config);
      expand.push((performance.now() - t0) / 1000);
      if (x.errors.length) throw new Error(x.errors.slice(0, 3).join('\n'));
      count = x.experiments.length;
      t0 = performance.now();
      const loaded = await loadSuiteFile(file, { set: ['num_input_prompts=128'], resolvePaths: true });
      load.push((performance.now() - t0) / 1000);
      if (loaded.result.errors.length) throw new Error(loaded.result.errors.slice(0, 3).join('\n'));
      if (loaded.experiments.length !== count)
        throw new Error(`loaded ${loaded.experiments.length}, expanded ${count}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (count !== 21_120) throw new Error(`expected 21,120 experiments, got ${count}`);
  return [
    { name: `expandSuite → ${count} experiments`, unit: 's', samples: expand, goal: '< 2 s' },
    { name: 'loadSuiteFile (YAML + --set + expand)', unit: 's', samples: load, goal: '< 2 s' },
  ];
}
