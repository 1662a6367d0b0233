import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Rule } from '../rule.js';
import { SERVER_RULES } from './server-rules.js';
import { LoadSchema, ServerSchema, SloSchema } from './server-sections.js';

// The engines: how an experiment's tokens are produced, one entry each. `engine`'s zod enum, its
// description, the config sections, the rules, the tracker's side files and the runner's result
// columns all come from here; the worker has the matching registry (joules_worker.engines, held to
// contract/engines.json). Adding an engine: an entry here (its rules in a file of its own beside it).

/** A file the worker writes beside `rank-<r>.json` that the results folder keeps. */
export interface EngineSideFile {
  /** The worker's name for it in its work folder. */
  worker: string;
  /** Its name in `raw_results/<id>/`, after `<id>_`. */
  name: string;
  /** `file`: copied byte for byte; `document`: a JSON object, written with the experiment id first. */
  kind: 'file' | 'document';
  /** A required file that is missing is an error (nothing the worker measured may be lost). */
  required: boolean;
  /** Why it must be there (said when it is missing). */
  why: string;
}

export interface EngineTraits {
  /** One line on what it does (the schema's description of `engine`). */
  summary: string;
  /** Its own top-level config sections, with their defaults; other engines ignore them (and warn when set). */
  sections: Record<string, z.ZodType>;
  /** Measures a model behind an inference server: Joules starts it (`server.command`) or attaches (`server.url`). */
  startsServer: boolean;
  /** Whether one worker process may run several experiments on one loaded model (`reuse: model`). */
  supportsSessions: boolean;
  /** The worker's files the tracker keeps, by role. */
  sideFiles: Record<string, EngineSideFile>;
  /** Result column groups it fills beside the common ones (`serving`: @joules/metrics' SERVING_COLUMNS). */
  columnGroups: readonly string[];
  /** Its cross-field rules; they run only for experiments of this engine. */
  rules: readonly Rule[];
}

export const ENGINES = {
  transformers: {
    summary: 'Hugging Face generate on fixed batches',
    sections: {},
    startsServer: false,
    supportsSessions: true,
    sideFiles: {},
    columnGroups: [],
    rules: [],
  },
  server: {
    summary: 'an OpenAI-compatible server under request load',
    sections: { server: ServerSchema.prefault({}), load: LoadSchema.prefault({}), slo: SloSchema.prefault({}) },
    startsServer: true,
    supportsSessions: false,
    sideFiles: {
      requests: {
        worker: 'requests-rank-0.jsonl',
        name: '9_requests.jsonl',
        kind: 'file',
        required: true,
        why: 'engine "server" writes one line per request',
      },
      summary: {
        worker: 'serving-rank-0.json',
        name: '9_serving',
        kind: 'document',
        required: true,
        why: 'engine "server" writes the load summary',
      },
      serverMetrics: {
        worker: 'server-metrics-rank-0.jsonl',
        name: '9_server_metrics.jsonl',
        kind: 'file',
        required: false,
        why: 'engine "server" writes the server\'s Prometheus metrics read through the load, where it has them',
      },
    },
    columnGroups: ['serving'],
    rules: SERVER_RULES,
  },
} as const satisfies Record<string, EngineTraits>;

export type EngineName = keyof typeof ENGINES;
/** The engines, in the table's order (the first is the default). */
export const ENGINE_NAMES = Object.keys(ENGINES) as [EngineName, ...EngineName[]];

export function isEngine(name: unknown): name is EngineName {
  return typeof name === 'string' && Object.hasOwn(ENGINES, name);
}

/** An engine's traits; an unknown name is a ConfigError (a schema-valid experiment never has one). */
export function engineTraits(name: string): EngineTraits {
  if (!isEngine(name))
    throw new ConfigError(
      `unknown engine ${JSON.stringify(name)} (known: ${ENGINE_NAMES.join(', ')})`,
      'UNKNOWN_ENGINE',
    );
  return ENGINES[name];
}

/**
 * Whether an experiment's engine runs against an inference server (started or attached); false for
 * an engine the schema rejected (rules run on the keys that are valid).
 */
export const startsServer = (experiment: { engine?: unknown }): boolean =>
  isEngine(experiment.engine) && ENGINES[experiment.engine].startsServer;
