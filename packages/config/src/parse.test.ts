import { describe, expect, it } from 'vitest';
import { parseExperiment } from './parse.js';

const minimal = { config_name: 'demo', model_name: 'org/model' };

describe('parseExperiment', () => {
  it('fills every default of a minimal experiment', () => {
    const r = parseExperiment(minimal);
    expect(r.errors).toEqual([]);
    expect(r.config).toMatchObject({
      task_type: 'text_generation',
      batch_size: 8,
      precision: 'fp32',
      decoding: { mode: 'greedy', temperature: null, top_k: null, top_p: null },
      dataset: { source: 'builtin', split: 'train' },
      energy: { backend: 'codecarbon', country_iso_code: 'USA' },
      gpu_ids: [],
      suite: null,
      cycle_id: null,
    });
  });

  it.each([
    [{ batch_size: 'four' }, 'batch_size: Invalid input: expected number, received string'],
    [{ batch_size: 0 }, 'batch_size: Too small'],
    [{ precision: 'fp8' }, 'precision: Invalid option'],
    [{ colour: 'red' }, 'colour: unknown key'],
    [{ decoding: { mode: 'greedy', temprature: 1 } }, 'decoding.temprature: unknown key'],
    [{ gpu_ids: [0, -1] }, 'gpu_ids[1]: Too small'],
    [{ energy: { backend: 'rapl' } }, 'energy.backend: Invalid option'],
    [{ energy: { country_iso_code: 'us' } }, 'energy.country_iso_code: expected a 3-letter ISO'],
    [{ min_output_tokens: 20, max_output_tokens: 10 }, 'min_output_tokens: must be <= max_output_tokens (20 > 10)'],
    [{ decoding: { temperature: 0.7 } }, 'decoding.temperature: only valid when decoding.mode is "sampling"'],
    [{ dataset: { source: 'file' } }, 'dataset.path: required when dataset.source is "file"'],
    [{ dataset: { source: 'hub' } }, 'dataset.name: required when dataset.source is "hub"'],
    [{ num_processes: 4, gpu_ids: [0, 1] }, 'num_processes: 4 processes do not fit 2 GPU(s) in gpu_ids'],
    [{ gpu_ids: [1, 1], num_processes: 1 }, 'gpu_ids: must not repeat a GPU'],
    [{ config_name: 'has space' }, 'config_name: use letters, digits'],
  ])('rejects %j with a message naming the field', (patch, expected) => {
    const r = parseExperiment({ ...minimal, ...patch });
    expect(r.config).toBeUndefined();
    expect(r.errors.some((e) => e.startsWith(expected))).toBe(true);
  });

  it('reports every problem at once', () => {
    const r = parseExperiment({ model_name: 3, batch_size: -1, extra: true });
    expect(r.errors).toHaveLength(4);
    expect(r.errors.map((e) => e.split(':')[0]).sort()).toEqual(['batch_size', 'config_name', 'extra', 'model_name']);
  });

  it('accepts sampling with its parameters and warns on unused GPUs', () => {
    const r = parseExperiment({
      ...minimal,
      decoding: { mode: 'sampling', temperature: 0.7, top_k: 50, top_p: 0.9 },
      gpu_ids: [0, 1, 2],
      num_processes: 2,
    });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual(['num_processes: 1 GPU(s) in gpu_ids stay unused']);
  });
});
