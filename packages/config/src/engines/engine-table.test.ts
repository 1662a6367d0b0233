import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { EnergySchema, EngineSchema } from '../experiment-schema.js';
import { parseExperiment } from '../parse.js';
import {
  AUTO_ORDER,
  backendTraits,
  ENERGY_BACKEND_NAMES,
  ENERGY_BACKENDS,
  isEnergyBackend,
  plannedBackend,
} from './energy-backend-table.js';
import { ENGINE_NAMES, ENGINES, engineTraits, isEngine, startsServer } from './engine-table.js';

describe('the engine table', () => {
  it('gives the engine enum its names and its default (the first)', () => {
    expect(EngineSchema.unwrap().options).toEqual(ENGINE_NAMES);
    expect(EngineSchema.parse(undefined)).toBe(ENGINE_NAMES[0]);
  });

  it('answers traits by name; an unknown name is a ConfigError', () => {
    expect(startsServer({ engine: 'server' })).toBe(true);
    expect(startsServer({ engine: 'transformers' })).toBe(false);
    expect(engineTraits('transformers').supportsSessions).toBe(true);
    expect(isEngine('nope')).toBe(false);
    expect(() => engineTraits('nope')).toThrow(ConfigError);
  });

  it("gives each section to one engine and the experiment's keys come from it", () => {
    const keys = ENGINE_NAMES.flatMap((n) => Object.keys(ENGINES[n].sections));
    expect(new Set(keys).size).toBe(keys.length);
    const r = parseExperiment({ config_name: 'c', model_name: './m' });
    for (const k of keys) expect(r.config).toHaveProperty(k);
  });

  it("warns about another engine's sections set but ignored, naming their owner", () => {
    const r = parseExperiment({ config_name: 'c', model_name: './m', slo: { ttft_ms: 100 } });
    expect(r.warnings.join('\n')).toMatch(/slo: ttft_ms set but ignored: engine is "transformers", not "server"/);
  });
});

describe('the energy backend table', () => {
  it('gives energy.backend "auto" and its names', () => {
    expect(EnergySchema.shape.backend.unwrap().options).toEqual(['auto', ...ENERGY_BACKEND_NAMES]);
    expect(isEnergyBackend('auto')).toBe(false);
    expect(() => backendTraits('auto')).toThrow(ConfigError);
  });

  it('orders auto by the table, and plans auto by gpu_ids', () => {
    expect(AUTO_ORDER).toEqual(['nvml', 'rapl', 'codecarbon', 'none']);
    expect(plannedBackend({ energy: { backend: 'auto' }, gpu_ids: [0] })).toBe('nvml');
    expect(plannedBackend({ energy: { backend: 'auto' }, gpu_ids: [] })).toBe('rapl');
    expect(plannedBackend({ energy: { backend: 'zeus' }, gpu_ids: [] })).toBe('zeus');
  });

  it('lets only backends that need no GPU run without gpu_ids', () => {
    for (const name of ENERGY_BACKEND_NAMES) {
      const r = parseExperiment({ config_name: 'c', model_name: './m', energy: { backend: name } });
      if (ENERGY_BACKENDS[name].needsGpus)
        expect(r.errors).toEqual([
          `energy.backend: "${name}" measures GPUs; set gpu_ids, or use "auto", "codecarbon", "rapl" or "none"`,
        ]);
      else expect(r.errors).toEqual([]);
    }
  });
});

describe('rules beside an engine the schema rejects', () => {
  it('still run, the engine read as no server engine', () => {
    const r = parseExperiment({ config_name: 'c', model_name: './m', engine: 'vllm', gpu_ids: [0], num_processes: 2 });
    expect(r.errors).toContainEqual('num_processes: 2 processes do not fit 1 GPU(s) in gpu_ids');
  });
});
