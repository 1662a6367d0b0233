// P1: what Joules adds around the worker. Same tiny experiment (one process), alternating runs:
//   A  `joules run` with the default launcher (`auto`: plain python for one process) — node,
//      validation, launch, worker, recording
//   B  the bare `accelerate launch ... -m joules_worker` (the original's way, for reference)
//   C  a bare `python -m joules_worker`
//   D  the worker's Python start-up alone (import torch, transformers, accelerate)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExperiment, resolveExperimentPaths } from '@joules/config';
import { accelerateCommand, freePort } from '@joules/launcher';

export const title = 'P1 orchestration overhead';
const root = fileURLToPath(new URL('..', import.meta.url));
const venv = path.join(root, 'python', '.venv', 'bin');
const RUNS = 5;

const time = (file, args, env = {}) => {
  const t0 = performance.now();
  execFileSync(file, args, { cwd: root, env: { ...process.env, HF_HUB_OFFLINE: '1', ...env }, stdio: 'ignore' });
  return (performance.now() - t0) / 1000;
};

export async function run() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-bench-p1-'));
  const input = {
    config_name: 'bench-p1',
    model_name: path.join(root, '.joules/models/tiny-llama'),
    num_input_prompts: 32,
    max_input_tokens: 128,
    max_output_tokens: 32,
    min_output_tokens: 32,
    batch_size: 8,
    warmup_iterations: 1,
    energy: { backend: 'none' },
  };
  const parsed = parseExperiment(input);
  if (!parsed.config) throw new Error(parsed.errors.join('; '));
  const experiment = resolveExperimentPaths(parsed.config, root);
  const yamlFile = path.join(tmp, 'exp.json');
  writeFileSync(yamlFile, JSON.stringify(input));
  const jsonFile = path.join(tmp, 'effective.json');
  writeFileSync(jsonFile, JSON.stringify(experiment));
  const A = [],
    B = [],
    C = [],
    D = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      A.push(
        time(process.execPath, [
          path.join(root, 'packages/cli/bin/joules.js'),
          'run',
          yamlFile,
          '--results-dir',
          path.join(tmp, 'results'),
        ]),
      );
      const out = path.join(tmp, `b${i}`);
      const cmd = accelerateCommand(path.join(venv, 'accelerate'), experiment, jsonFile, out, await freePort());
      B.push(time(cmd.file, cmd.args, cmd.env));
      C.push(
        time(path.join(venv, 'python'), [
          '-m',
          'joules_worker',
          '--config',
          jsonFile,
          '--output-dir',
          path.join(tmp, `c${i}`),
        ]),
      );
      D.push(time(path.join(venv, 'python'), ['-c', 'import torch, transformers, accelerate']));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ratio = (f) => A.map((_, i) => f(i));
  return [
    { name: 'joules run wall time (default launcher)', unit: 's', samples: A },
    { name: 'bare accelerate launch wall time', unit: 's', samples: B },
    { name: 'bare python -m joules_worker wall time', unit: 's', samples: C },
    { name: 'worker python start-up (imports)', unit: 's', samples: D },
    {
      name: 'joules run ÷ bare worker, with start-up',
      unit: '×',
      samples: ratio((i) => A[i] / C[i]),
      goal: '≤ 1.15',
      ratio: true,
    },
    { name: 'joules run ÷ bare accelerate launch', unit: '×', samples: ratio((i) => A[i] / B[i]), ratio: true },
    {
      name: 'joules run ÷ bare worker, start-ups excluded',
      unit: '×',
      samples: ratio((i) => (A[i] - D[i]) / (C[i] - D[i])),
      ratio: true,
    },
  ];
}
