import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseExperiment } from '@joules/config';
import { aggregateRanks, deriveMetrics, type RawMeasurement, RawMeasurementSchema } from '@joules/metrics';
import { describe, expect, it } from 'vitest';
import { resultDocuments } from './result-documents.js';
import { datasetRowsSkipped, effectiveGenerationConfig } from './worker-records.js';

// A real worker's ranks (two CPU ranks); the records below are what the worker adds to `environment`.
const FIXTURE = fileURLToPath(new URL('../../../contract/fixtures/raw-2rank-fake-gpu/', import.meta.url));
const rank = (r: number): RawMeasurement =>
  RawMeasurementSchema.parse(JSON.parse(readFileSync(`${FIXTURE}rank-${r}.json`, 'utf8')));

const GENERATION = {
  mode: 'greedy_search',
  do_sample: false,
  num_beams: 1,
  repetition_penalty: 1.0,
  eos_token_id: [2],
  overridden_model_defaults: { repetition_penalty: 1.2, num_beams: 4 },
};
const SKIPPED = { count: 1, lines: [1], reason: 'no prompt column (metadata record)' };

function withRecords(r: RawMeasurement): RawMeasurement {
  const dataset = r.environment['dataset'];
  const base = typeof dataset === 'object' && dataset !== null && !Array.isArray(dataset) ? dataset : {};
  return {
    ...r,
    environment: { ...r.environment, generation: GENERATION, dataset: { ...base, rows_skipped: SKIPPED } },
  };
}

function withoutRecords(r: RawMeasurement): RawMeasurement {
  const { generation: _generation, dataset, ...environment } = r.environment;
  const rest = typeof dataset === 'object' && dataset !== null && !Array.isArray(dataset) ? { ...dataset } : {};
  delete rest['rows_skipped'];
  return { ...r, environment: { ...environment, dataset: rest } };
}

function variables(ranks: RawMeasurement[]): Record<string, unknown> {
  const parsed = parseExperiment({ config_name: 'vars', model_name: 'org/model', num_processes: 2 });
  if (!parsed.config) throw new Error(parsed.errors.join('\n'));
  const totals = aggregateRanks(ranks);
  const docs = resultDocuments({
    experimentId: '000001',
    experiment: parsed.config,
    configHash: 'abc',
    launcher: 'accelerate',
    startedAt: '2026-12-01T00:00:00Z',
    finishedAt: '2026-12-01T00:01:00Z',
    ranks,
    totals,
    metrics: deriveMetrics(totals),
  });
  return docs['2_experiment_variables'] as Record<string, unknown>;
}

describe('_2_experiment_variables.json', () => {
  it("carries the captured worker's own generation record (greedy, model defaults neutralised)", () => {
    const doc = variables([rank(0), rank(1)]);
    expect(doc['effective_generation_config']).toMatchObject({ do_sample: false, num_beams: 1 });
  });

  it('holds the effective generation config and the skipped prompt rows the worker recorded', () => {
    const doc = variables([withRecords(rank(0)), withRecords(rank(1))]);
    expect(doc['effective_generation_config']).toEqual(GENERATION);
    expect(doc['dataset_rows_skipped']).toEqual(SKIPPED);
    expect(doc['decoding']).toEqual({ mode: 'greedy', temperature: null, top_k: null, top_p: null });
  });

  it('says null where a worker recorded neither (hub dataset, an engine, an older worker)', () => {
    const doc = variables([withoutRecords(rank(0)), withoutRecords(rank(1))]);
    expect(doc['effective_generation_config']).toBeNull();
    expect(doc['dataset_rows_skipped']).toBeNull();
    const r = rank(0);
    expect(
      effectiveGenerationConfig({ ...r, environment: { ...r.environment, generation: 'not a record' } }),
    ).toBeNull();
    expect(datasetRowsSkipped({ ...r, environment: { ...r.environment, dataset: { rows_skipped: null } } })).toBeNull();
  });
});
