import { z } from 'zod';

const base = { v: z.literal(1), rank: z.int().nonnegative(), time: z.number() };

/**
 * Why a worker rank failed, also the worker's `error-rank-<r>.json` kind (contract v2 adds
 * `transient`: hub/network/filesystem hiccups, and `unsupported`: an option this machine cannot do).
 */
export const FailureKindSchema = z.enum([
  'oom',
  'bad_config',
  'model_not_found',
  'dataset',
  'transient',
  'unsupported',
  'server_error',
  'other',
]);
export type FailureKind = z.output<typeof FailureKindSchema>;

/** One NDJSON progress event printed by the worker on stdout (contract v1). */
export const WorkerEventSchema = z.discriminatedUnion('event', [
  z.strictObject({
    ...base,
    event: z.literal('stage'),
    stage: z.enum(['loading_model', 'loading_prompts', 'warmup', 'measuring', 'writing']),
  }),
  z.strictObject({ ...base, event: z.literal('warmup'), i: z.int().positive(), n: z.int().positive() }),
  z.strictObject({
    ...base,
    event: z.literal('batch'),
    i: z.int().positive(),
    n: z.int().positive(),
    size: z.int().positive(),
    latency_s: z.number().nonnegative(),
  }),
  z.strictObject({ ...base, event: z.literal('result'), path: z.string().min(1) }),
  z.strictObject({ ...base, event: z.literal('error'), kind: FailureKindSchema, message: z.string() }),
  // The latest power of one sampled device (`<host>/gpu/<uuid>`), at most one a second per device (live dashboards).
  z.strictObject({
    ...base,
    event: z.literal('power'),
    host: z.string().min(1),
    device: z.string().min(1),
    watts: z.number().nonnegative(),
  }),
  // Session mode (`--session`, see src/session/README.md): rank 0, once every rank wrote its file.
  z.strictObject({
    ...base,
    event: z.literal('experiment_done'),
    index: z.int().nonnegative(),
    output_dir: z.string().min(1),
    rank_files: z.array(z.string().min(1)),
    model_reused: z.boolean(),
    model_load_s: z.number().nonnegative(),
  }),
]);
export type WorkerEvent = z.output<typeof WorkerEventSchema>;

/** What the worker writes as `error-rank-<r>.json` when a rank fails. */
export const WorkerErrorFileSchema = z.object({
  schema_version: z.union([z.literal(1), z.literal(2)]),
  rank: z.int().nonnegative(),
  kind: FailureKindSchema,
  message: z.string(),
  traceback: z.string().nullable().optional(),
});
export type WorkerErrorFile = z.output<typeof WorkerErrorFileSchema>;

/** Parse one stdout line leniently: a worker event, or undefined for an ordinary log line. */
export function parseWorkerEventLine(line: string): WorkerEvent | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = WorkerEventSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

export function workerEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(WorkerEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
