import { z } from 'zod';

// The nested sections of an experiment (contract v2, contract/V2.md). Defaults live here, so the
// effective experiment has every key present.

const nonNegative = () => z.number().nonnegative();
const positiveSeconds = () => z.number().positive().nullable().default(null);

/** How the model is loaded. */
export const ModelSchema = z
  .strictObject({
    revision: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('hub revision (branch, tag or commit); null = default'),
    quantization: z
      .enum(['none', 'int8', 'int4'])
      .default('none')
      .describe('bitsandbytes quantization (int4 = nf4); CUDA only'),
    trust_remote_code: z.boolean().default(false).describe('run code shipped with a hub model'),
    is_encoder_decoder: z.boolean().default(false).describe('true loads AutoModelForSeq2SeqLM'),
    inference_type: z.literal('pure_generative').default('pure_generative'),
    attn_implementation: z
      .enum(['eager', 'sdpa', 'flash_attention_2'])
      .nullable()
      .default(null)
      .describe("attention kernel; null = transformers' default"),
  })
  .describe('how the model is loaded');

/** Where prompts come from: the bundled sample, a local JSONL/CSV file, or a hub dataset. */
export const DatasetSchema = z
  .strictObject({
    source: z
      .enum(['builtin', 'file', 'hub'])
      .default('builtin')
      .describe('builtin sample, local file, or hub dataset'),
    path: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('file source: a .jsonl or .csv path (relative to the config file)'),
    name: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('hub source: dataset name, e.g. AIEnergyScore/text_generation'),
    split: z.string().min(1).default('train').describe('hub source: dataset split'),
    column: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('column holding the prompt; null = "prompt", else "text"'),
    revision: z.string().min(1).nullable().default(null).describe('hub source: dataset revision'),
    format: z
      .enum(['auto', 'prompts', 'sharegpt', 'openai_chat'])
      .default('auto')
      .describe(
        'prompts: a prompt per record (column); sharegpt: {"conversations": [{"from": "human"|"gpt", "value"}, ...]} per record; openai_chat: {"messages": [{"role", "content"}, ...]} per record (a conversation: its first user turn is the prompt, its answer the dataset answer, its user turns a session); auto = by the first record\'s fields',
      ),
  })
  .describe('prompt source');

/** Fixed batches, or adaptive batches filled up to a token budget. */
export const BatchingSchema = z
  .strictObject({
    strategy: z
      .enum(['fixed', 'adaptive'])
      .default('fixed')
      .describe('fixed: batch_size prompts per batch; adaptive: by token budget'),
    max_tokens_per_batch: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('adaptive only: (prompts in batch) × (longest prompt + max_output_tokens) stays within this'),
  })
  .describe('batching strategy');

/** Greedy or sampling decoding. Sampling parameters are only valid with mode "sampling". */
export const DecodingSchema = z.strictObject({
  mode: z.enum(['greedy', 'sampling']).default('greedy'),
  temperature: z.number().positive().nullable().default(null).describe('sampling only; null = 1.0'),
  top_k: z.int().nonnegative().nullable().default(null).describe('sampling only; null or 0 = no top-k filter'),
  top_p: z.number().gt(0).lte(1).nullable().default(null).describe('sampling only; null = 1.0'),
});

export const ShardingSchema = z
  .strictObject({
    strategy: z
      .enum(['none', 'fsdp'])
      .default('none')
      .describe('recorded and passed to the launcher; fsdp needs num_processes > 1'),
  })
  .describe('model sharding');

const slurmName = () =>
  z
    .string()
    .regex(/^[\w.+-]+$/, 'expected a Slurm name (letters, digits, . _ + -)')
    .nullable()
    .default(null);

/** Slurm's `--time`: minutes, `[days-]hours:minutes:seconds` and its shorter forms, or UNLIMITED. */
export const SLURM_TIME = /^(?:\d+(?::\d+){0,2}|\d+-\d+(?::\d+){0,2}|unlimited|infinite)$/i;

/** The Slurm job of each experiment (launcher "slurm"; TS side only). */
export const SlurmSchema = z
  .strictObject({
    nodes: z
      .int()
      .min(1)
      .default(1)
      .describe('nodes of the job; one `accelerate launch` per node, num_processes spread evenly'),
    gpus_per_node: z.int().nonnegative().default(0).describe('--gpus-per-node; 0 = CPU nodes (gpu_ids empty)'),
    cpus_per_task: z
      .int()
      .min(1)
      .nullable()
      .default(null)
      .describe("--cpus-per-task: CPUs of each node's task; null = Slurm's default"),
    mem: z
      .string()
      .regex(/^\d+[KMGT]?$/i, 'expected a size such as 64G, 512M or 0 (all of it)')
      .nullable()
      .default(null)
      .describe("--mem: memory per node; null = Slurm's default"),
    partition: slurmName().describe('--partition; null = the default partition'),
    account: slurmName().describe('--account'),
    qos: slurmName().describe('--qos'),
    time_limit: z
      .union([
        z.int().min(1),
        z.string().regex(SLURM_TIME, 'expected minutes or a Slurm time such as "2:00:00" or "1-12:00:00"'),
      ])
      .nullable()
      .default(null)
      .describe('--time: minutes, or "[days-]hours:minutes:seconds"; with timeout_s the smaller wins; null = none'),
    extra_args: z
      .array(z.string().regex(/^-/, 'expected an sbatch option such as "--constraint=a100"'))
      .default([])
      .describe('more sbatch options, passed as given'),
  })
  .describe('the Slurm job of each experiment (launcher "slurm")');

/**
 * accelerate's multi-machine world for machines started by hand (launcher "accelerate"): every
 * machine runs `joules run` with the same config but its own `machine_rank`. Slurm derives all of
 * this from the allocation instead (launch.slurm.nodes).
 */
export const MachinesSchema = z
  .strictObject({
    num_machines: z
      .int()
      .min(1)
      .default(1)
      .describe('machines of one accelerate world; num_processes is the total over all of them'),
    machine_rank: z
      .int()
      .nonnegative()
      .default(0)
      .describe("this machine's rank: 0 runs the main process and records the results"),
    main_process_ip: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe('address of machine 0, reachable from every machine (num_machines > 1)'),
    main_process_port: z
      .int()
      .min(1)
      .max(65535)
      .nullable()
      .default(null)
      .describe("machine 0's rendezvous port, the same on every machine (num_machines > 1)"),
  })
  .describe('several machines started by hand (launcher "accelerate")');

/** How the worker is started (TS side only; the worker checks the types and ignores it). */
export const LaunchSchema = z
  .strictObject({
    launcher: z
      .string()
      .regex(
        /^(?:auto|accelerate|python|slurm|\.{0,2}\/.+)$/,
        'expected "auto", "accelerate", "python", "slurm", or a module path such as "./my-launcher.mjs"',
      )
      .default('auto')
      .describe(
        '"auto" (python for one process, accelerate for more), "accelerate", "python", "slurm" (one sbatch job per experiment), or a module path (relative to the config file) of a custom launcher',
      ),
    timeout_s: positiveSeconds().describe('wall-clock limit per attempt (s); null = none'),
    silence_timeout_s: positiveSeconds().describe('stop the worker when it prints nothing this long (s); null = none'),
    slurm: SlurmSchema.prefault({}),
    machines: MachinesSchema.prefault({}),
  })
  .describe('how the worker is launched');

/** Latency / traffic simulation between batches. */
export const TrafficSchema = z
  .strictObject({
    delay_min_ms: nonNegative().default(0).describe('uniform random delay before each batch (seeded): lower bound'),
    delay_max_ms: nonNegative().default(0).describe('upper bound; must be >= delay_min_ms'),
    burst_size: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('after every burst_size batches wait burst_interval_ms'),
    burst_interval_ms: nonNegative()
      .nullable()
      .default(null)
      .describe('wait after each burst (ms); set with burst_size'),
    inside_energy_window: z
      .boolean()
      .default(false)
      .describe('whether the waits are inside the measured energy window'),
  })
  .describe('traffic simulation between batches');

/** Retries of a failed attempt (TS side only). */
export const RetrySchema = z
  .strictObject({
    max_retries: z.int().nonnegative().max(100).default(3).describe('attempts after the first'),
    backoff_base_s: nonNegative().default(2).describe('exponential backoff base (s)'),
    halve_batch_on_oom: z.boolean().default(true).describe('retry an out-of-memory failure with batch_size halved'),
  })
  .describe('retries of failed attempts');
