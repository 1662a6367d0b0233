// A results folder of a large study, written in bulk (no lock, no fsync per row): the demo's real
// result row repeated with distinct ids, configurations, models and cycles, plus the suite's
// progress journal and a few failures. Used by the scale tests and `bench/scale.bench.mjs`.
// Plain JS (not TS) so that `npm run bench` imports it without a build step.

import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_COLUMNS } from '@joules/metrics';
import { csvLine, formatExperimentId, progressKey, recordFailure, resultsLayout } from '@joules/tracker';

/** The demo experiment's result row (tiny model, CPU), as `npm run demo` wrote it. */
export const DEMO_ROW = JSON.parse(readFileSync(new URL('./__fixtures__/demo-row.json', import.meta.url), 'utf8'));

const BATCH = [1, 2, 4, 8, 16, 32, 64, 128];
const PRECISION = ['fp32', 'fp16', 'bf16', 'int8', 'int4'];
const PROCESSES = [1, 2, 4];
const MODELS = ['org/llama-3.1-8b', 'org/mistral-7b', 'org/qwen-2.5-7b', 'org/phi-3-mini'];

/** A small deterministic PRNG (mulberry32): the same folder for the same seed. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The factors of configuration `c` (0-based) of the grid. */
export function studyConfig(c) {
  const batch = BATCH[c % BATCH.length];
  const precision = PRECISION[Math.floor(c / BATCH.length) % PRECISION.length];
  const processes = PROCESSES[Math.floor(c / (BATCH.length * PRECISION.length)) % PROCESSES.length];
  return { name: `cfg-${String(c + 1).padStart(5, '0')}`, batch, precision, processes };
}

/**
 * Write a study of `experiments` rows into `dir`: `models` models × configurations × `cycles`
 * cycles (configurations = experiments / (models × cycles), rounded up; the last is cut short).
 * Energy scales with the batch size and precision, with a few % of cycle-to-cycle noise.
 * `failures` failed experiments go to failed_experiments.csv and the journal. `journal: false`
 * writes no journal (a folder of `joules run` results). Returns the counts written.
 */
export async function writeStudyFolder(dir, options) {
  const { experiments, cycles = 5, models = 4, failures = 0, seed = 1, journal = true, suite = 'study' } = options;
  const layout = resultsLayout(dir);
  await mkdir(layout.stateDir, { recursive: true });
  const random = prng(seed);
  const csv = createWriteStream(layout.resultsCsv('text_generation'));
  const jl = journal ? createWriteStream(layout.journalFile) : null;
  const write = async (stream, text) => {
    if (!stream.write(text)) await once(stream, 'drain');
  };
  await write(csv, csvLine(RESULT_COLUMNS));
  if (jl) await write(jl, `${JSON.stringify({ format: 'joules-progress', version: 1 })}\n`);
  const perModel = Math.ceil(experiments / models);
  const configs = Math.ceil(perModel / cycles);
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  let id = 0;
  const failed = [];
  for (let i = 0; i < experiments; i++) {
    const m = Math.floor(i / perModel);
    const within = i % perModel;
    const c = Math.floor(within / cycles);
    const cycle = 1 + (within % cycles);
    const cfg = studyConfig(c);
    const model = MODELS[m % MODELS.length] + (m >= MODELS.length ? `-${m}` : '');
    const experimentId = formatExperimentId(++id);
    const key = progressKey({ model_name: model, suite, config_name: cfg.name, cycle_id: cycle });
    const startedAt = new Date(t0 + i * 30_000).toISOString();
    const finishedAt = new Date(t0 + i * 30_000 + 25_000).toISOString();
    const fail = failed.length < failures && i % Math.max(1, Math.floor(experiments / failures)) === 3;
    if (fail) failed.push({ experimentId, cfg, model });
    else {
      const precisionCost = 1 + PRECISION.indexOf(cfg.precision) * -0.12;
      const noise = 1 + (random() - 0.5) * 0.06;
      const perToken = (DEMO_ROW.energy_per_token_j * precisionCost * noise * (1 + m * 0.2)) / Math.sqrt(cfg.batch);
      const tokens = DEMO_ROW.total_output_tokens;
      const row = {
        ...DEMO_ROW,
        experiment_id: experimentId,
        config_name: cfg.name,
        model_name: model,
        suite,
        cycle_id: cycle,
        batch_size: cfg.batch,
        precision: cfg.precision,
        num_processes: cfg.processes,
        energy_per_token_j: perToken,
        energy_total_j: perToken * tokens,
        energy_adjusted_j: perToken * tokens,
        tokens_per_j: 1 / perToken,
        throughput_tokens_per_s: (DEMO_ROW.throughput_tokens_per_s * Math.sqrt(cfg.batch) * noise) / (1 + m * 0.2),
        config_hash: `h${m}-${c}`,
        effective_config_hash: `h${m}-${c}`,
      };
      await write(csv, csvLine(RESULT_COLUMNS.map((col) => (row[col] === undefined ? null : row[col]))));
    }
    if (jl) {
      const entry = {
        key,
        status: fail ? 'failed' : 'done',
        rev: 3,
        configHash: `h${m}-${c}`,
        experimentId,
        attempts: 1,
        createdAt: new Date(t0).toISOString(),
        updatedAt: finishedAt,
        startedAt,
        finishedAt,
        ...(fail ? { error: 'CUDA out of memory' } : {}),
      };
      await write(jl, `${JSON.stringify(entry)}\n`);
    }
  }
  csv.end();
  jl?.end();
  await Promise.all([once(csv, 'close'), jl ? once(jl, 'close') : null]);
  for (const f of failed)
    await recordFailure(dir, {
      experimentId: f.experimentId,
      configName: f.cfg.name,
      modelName: f.model,
      attempt: 1,
      kind: 'oom',
      message: 'CUDA out of memory (synthetic)',
      config: {},
    });
  await writeFile(layout.counterFile, String(id));
  return {
    experiments,
    done: experiments - failed.length,
    failed: failed.length,
    configs: configs * models,
    dir: path.resolve(dir),
  };
}
