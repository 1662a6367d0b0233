import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type RawMeasurement,
  RawMeasurementSchema,
  type ServingRequest,
  ServingRequestSchema,
  type ServingSummary,
  ServingSummarySchema,
} from '@joules/metrics';
import { z } from 'zod';
import { GpuCheckError } from './errors.js';

/** What the Python kit wrote into its --out folder (python/gpu_check/bundle.py). */
export const SUMMARY_FILE = 'summary.json';
export const RAW_BUNDLE_FILE = 'raw-files.jsonl';

const StepSchema = z.object({
  name: z.string(),
  check: z.string(),
  ranks: z.number(),
  exit_code: z.number().nullable(),
  timed_out: z.boolean(),
  wall_s: z.number(),
  skipped: z.string().nullable(),
  files: z.array(z.string()),
});

const PowerReadSchema = z.object({ limit_w: z.number(), enforced_w: z.number(), constraints_w: z.array(z.number()) });
const GpuControlStepSchema = z.object({
  status: z.enum(['pass', 'fail', 'refused', 'skipped']),
  message: z.string().nullable(),
  requested_w: z.number().nullable(),
  read_back_w: z.number().nullable(),
  before: PowerReadSchema.optional(),
  during: PowerReadSchema.optional(),
  after: PowerReadSchema.optional(),
  seconds: z.number(),
});

const MemoryRefSchema = z.object({ peak_bytes: z.number().nullable(), reason: z.string().nullable() });

export const KitSummarySchema = z.object({
  schema: z.literal('joules-gpu-check/1'),
  mode: z.enum(['gpu', 'cpu']),
  started_unix_s: z.number(),
  wall_s: z.number(),
  device: z
    .object({ name: z.string(), peak_bf16_flops: z.number().nullable(), peak_reason: z.string().nullable() })
    .loose(),
  model: z.object({ shape: z.string(), num_parameters: z.number(), build_s: z.number() }).loose(),
  model_1b_parameters: z.number(),
  cpu_overrides: z.string().nullable(),
  steps: z.array(StepSchema),
  references: z.object({
    memory: z.record(z.string(), MemoryRefSchema),
    flops: z
      .object({
        experiment: z.string(),
        total: z.number(),
        attn_implementation: z.string().nullable(),
        seconds: z.number(),
      })
      .nullable(),
    seconds: z.number(),
    /** True in the summary written before the references ran (the kit stopped during them). */
    pending: z.boolean().optional(),
  }),
  failed_steps: z.array(z.string()),
  /** The GPU guard step (python/gpu_check/gpu_control.py); absent in kits from before it. */
  gpu_control: GpuControlStepSchema.optional(),
});
export type KitSummary = z.infer<typeof KitSummarySchema>;

export interface TimeseriesRow {
  t: number;
  device_id: string;
  power_w: number | null;
}

export interface StepFiles {
  ranks: RawMeasurement[];
  /** Timeseries rows by rank. */
  timeseries: Map<number, TimeseriesRow[]>;
  stderr: string;
  /** Engine "server" steps: the load's summary and its requests (serving-rank-0.json, requests-rank-0.jsonl). */
  serving?: ServingSummary;
  requests?: ServingRequest[];
}

export interface Returned {
  summary: KitSummary;
  steps: Map<string, StepFiles>;
}

function readJson(path: string): unknown {
  if (!existsSync(path))
    throw new GpuCheckError(`${path} is missing: is this the folder the kit wrote (--out)?`, 'MISSING_FILE');
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new GpuCheckError(`${path} is not valid JSON`, 'BAD_BUNDLE', { cause });
  }
}

const issueText = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

const BundleLine = z.object({ path: z.string().min(1), bytes: z.number(), text: z.string() });

/** Read and check the returned files; every rank file must parse with @joules/metrics' schema. */
export function readReturned(dir: string): Returned {
  const summaryPath = join(dir, SUMMARY_FILE);
  const data = readJson(summaryPath);
  const error = (data as { error?: unknown } | null)?.error;
  if (typeof error === 'string') {
    const last = error.trim().split('\n').slice(-3).join(' | ');
    throw new GpuCheckError(
      `${summaryPath}: the kit failed before it finished: ${last} (gpu-check.log has the whole log)`,
      'KIT_FAILED',
    );
  }
  const parsed = KitSummarySchema.safeParse(data);
  if (!parsed.success) throw new GpuCheckError(`${summaryPath}: ${issueText(parsed.error)}`, 'BAD_BUNDLE');
  const bundlePath = join(dir, RAW_BUNDLE_FILE);
  if (!existsSync(bundlePath)) throw new GpuCheckError(`${bundlePath} is missing`, 'MISSING_FILE');
  const steps = new Map<string, StepFiles>();
  const lines = readFileSync(bundlePath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    let entry: z.infer<typeof BundleLine>;
    try {
      entry = BundleLine.parse(JSON.parse(line));
    } catch (cause) {
      throw new GpuCheckError(`${bundlePath} line ${i + 1}: not a {path, bytes, text} object`, 'BAD_BUNDLE', { cause });
    }
    const [step, file, ...rest] = entry.path.split('/');
    if (!step || !file || rest.length) return;
    const files: StepFiles = steps.get(step) ?? { ranks: [], timeseries: new Map(), stderr: '' };
    steps.set(step, files);
    const rank = /^rank-(\d+)\.json$/.exec(file);
    const series = /^timeseries-rank-(\d+)\.jsonl$/.exec(file);
    if (rank) files.ranks.push(parseRank(entry.text, `${bundlePath}: ${entry.path}`));
    else if (series) files.timeseries.set(Number(series[1]), parseSeries(entry.text));
    else if (file === 'worker-stderr.log') files.stderr = entry.text;
    else if (file === 'serving-rank-0.json')
      files.serving = parseWith(ServingSummarySchema, entry.text, `${bundlePath}: ${entry.path}`);
    else if (file === 'requests-rank-0.jsonl')
      files.requests = entry.text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l, n) => parseWith(ServingRequestSchema, l, `${bundlePath}: ${entry.path} line ${n + 1}`));
  });
  for (const files of steps.values()) files.ranks.sort((a, b) => a.rank - b.rank);
  return { summary: parsed.data, steps };
}

const parseRank = (text: string, where: string): RawMeasurement =>
  parseWith(RawMeasurementSchema, text, where, 'BAD_RANK_FILE', "does not match @joules/metrics' raw measurement: ");

function parseWith<T>(
  schema: z.ZodType<T>,
  text: string,
  where: string,
  code: 'BAD_BUNDLE' | 'BAD_RANK_FILE' = 'BAD_BUNDLE',
  what = '',
): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new GpuCheckError(`${where} is not valid JSON`, code, { cause });
  }
  const r = schema.safeParse(data);
  if (!r.success) throw new GpuCheckError(`${where}${what ? ` ${what}` : ': '}${issueText(r.error)}`, code);
  return r.data;
}

function parseSeries(text: string): TimeseriesRow[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TimeseriesRow);
}
