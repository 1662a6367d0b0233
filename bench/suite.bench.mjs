// P4: a suite of 10 configurations of one model. Joules with model reuse (one worker session, the
// model loaded once) against one launch per configuration (Joules without reuse, default launcher),
// and against the original's approach (one bare `accelerate launch` per configuration, one after
// the other). One run of each side; the samples are the 10 per-configuration wall times (Joules:
// from its progress journal) and the per-configuration throughput and energy per token, reuse ÷
// fresh (their spread over the 10 configurations is this machine's noise on windows this short).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuiteFile } from '@joules/config';
import { accelerateCommand, freePort } from '@joules/launcher';
import { parse } from 'csv-parse/sync';

export const title = 'P4 suite of 10 configs';
const root = fileURLToPath(new URL('..', import.meta.url));
const venv = path.join(root, 'python', '.venv', 'bin');

function suiteYaml(name, launcher) {
  const scenarios = Array.from(
    { length: 10 },
    (_, i) =>
      `  c${i + 1}: { batch_size: ${1 + (i % 5)}, max_output_tokens: ${8 + 2 * i}, min_output_tokens: ${8 + 2 * i} }`,
  );
  return [
    `name: bench-p4-${name}`,
    'cycles: 1',
    'models:',
    `  - ${path.join(root, '.joules/models/tiny-llama')}`,
    'base:',
    '  num_input_prompts: 8',
    '  max_input_tokens: 64',
    '  warmup_iterations: 1',
    // the default energy backend (auto: CodeCarbon's estimate on a host without NVML or RAPL), so
    // that energy is compared too and each fresh launch pays what a default one pays
    '  energy: { backend: auto }',
    `  launch: { launcher: ${launcher} }`,
    'scenarios:',
    ...scenarios,
    '',
  ].join('\n');
}

const durations = (results) =>
  readFileSync(path.join(results, '.joules', 'progress.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.status === 'done')
    .map((e) => (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000);

export async function run() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'joules-bench-p4-'));
  const out = [];
  try {
    const totals = {};
    const rows = {};
    for (const [side, extra] of [
      ['reuse', ['--reuse-model']],
      ['fresh', []],
    ]) {
      const file = path.join(tmp, `suite-${side}.yaml`);
      writeFileSync(file, suiteYaml(side, 'auto'));
      const results = path.join(tmp, `results-${side}`);
      const t0 = performance.now();
      execFileSync(
        process.execPath,
        [path.join(root, 'packages/cli/bin/joules.js'), 'suite', file, '--results-dir', results, ...extra],
        { stdio: 'ignore', env: { ...process.env, HF_HUB_OFFLINE: '1' } },
      );
      totals[side] = (performance.now() - t0) / 1000;
      out.push({
        name: `joules suite${side === 'reuse' ? ' --reuse-model' : ' (one launch per config)'}, per config`,
        unit: 's',
        samples: durations(results),
      });
      rows[side] = new Map(
        parse(readFileSync(path.join(results, 'text_generation_results.csv'), 'utf8'), { columns: true }).map((r) => [
          r.config_name,
          r,
        ]),
      );
    }
    const perConfig = (column) =>
      [...rows.fresh.keys()]
        .map((k) => Number(rows.reuse.get(k)[column]) / Number(rows.fresh.get(k)[column]))
        .filter(Number.isFinite);
    const tput = perConfig('throughput_tokens_per_s');
    const energy = perConfig('energy_per_token_j');
    const backends = new Set([...rows.reuse.values(), ...rows.fresh.values()].map((r) => r.energy_backend));
    // The original: one bare `accelerate launch` per configuration.
    writeFileSync(path.join(tmp, 'suite-accelerate.yaml'), suiteYaml('accelerate', 'accelerate'));
    const loaded = await loadSuiteFile(path.join(tmp, 'suite-accelerate.yaml'), { resolvePaths: true });
    const bare = [];
    const t0 = performance.now();
    for (const [i, e] of loaded.experiments.entries()) {
      const cfg = path.join(tmp, `exp-${i}.json`);
      writeFileSync(cfg, JSON.stringify(e.experiment));
      const cmd = accelerateCommand(
        path.join(venv, 'accelerate'),
        e.experiment,
        cfg,
        path.join(tmp, `bare-${i}`),
        await freePort(),
      );
      const t = performance.now();
      execFileSync(cmd.file, cmd.args, { stdio: 'ignore', env: { ...process.env, ...cmd.env, HF_HUB_OFFLINE: '1' } });
      bare.push((performance.now() - t) / 1000);
    }
    totals.bare = (performance.now() - t0) / 1000;
    out.push({ name: 'one bare accelerate launch per config (original), per config', unit: 's', samples: bare });
    out.push({
      name: 'total: joules suite --reuse-model ÷ one launch per config',
      unit: '×',
      samples: [totals.reuse / totals.fresh],
      goal: '≤ 0.3',
      ratio: true,
    });
    out.push({
      name: 'total: joules suite --reuse-model ÷ bare accelerate launches',
      unit: '×',
      samples: [totals.reuse / totals.bare],
      ratio: true,
    });
    out.push({
      name: 'total: joules suite (one launch per config) ÷ bare accelerate launches',
      unit: '×',
      samples: [totals.fresh / totals.bare],
      ratio: true,
    });
    out.push({ name: 'throughput per config, reuse ÷ fresh', unit: '×', samples: tput, ratio: true });
    if (energy.length)
      out.push({
        name: `energy per token per config, reuse ÷ fresh (${[...backends].join(', ')})`,
        unit: '×',
        samples: energy,
        ratio: true,
      });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}
