import { z } from 'zod';
import { ExperimentSchema } from './experiment-schema.js';
import type { ConfigKind } from './extends.js';
import { SuiteSchema } from './suite-schema.js';

type JsonSchema = Record<string, unknown>;

const extendsProperty = {
  description: 'file(s) this one builds on, relative to this file; later ones and this file win',
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 } },
  ],
};

/** Files may say what they extend: a key the loader consumes, so only the input (editor) form has it. */
function withExtends(schema: JsonSchema): JsonSchema {
  const properties = schema.properties as Record<string, unknown>;
  return { ...schema, properties: { extends: extendsProperty, ...properties } };
}

/**
 * JSON Schema of an experiment. `input`: what a user may write (defaults optional, `extends`
 * allowed) — for editors. `output`: the effective experiment the worker receives (every key present)
 * — the contract.
 */
export function experimentJsonSchema(io: 'input' | 'output' = 'input'): JsonSchema {
  const schema = z.toJSONSchema(ExperimentSchema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return io === 'input' ? withExtends(schema) : schema;
}

/** JSON Schema of a suite file as written (for editors, `joules schema suite`). */
export function suiteJsonSchema(): JsonSchema {
  return withExtends(z.toJSONSchema(SuiteSchema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema);
}

/** The editor (input) JSON Schema of an experiment or a suite file: `joules schema experiment|suite`. */
export function configJsonSchema(kind: ConfigKind): JsonSchema {
  return kind === 'suite' ? suiteJsonSchema() : experimentJsonSchema('input');
}
