import { z } from 'zod';
import { ExperimentSchema } from './experiment-schema.js';

/**
 * JSON Schema of an experiment. `input`: what a user may write (defaults optional) — for editors.
 * `output`: the effective experiment the worker receives (every key present) — the contract.
 */
export function experimentJsonSchema(io: 'input' | 'output' = 'input'): Record<string, unknown> {
  return z.toJSONSchema(ExperimentSchema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
}
