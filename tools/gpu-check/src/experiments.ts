import { type Experiment, parseExperiment } from '@joules/config';
import { GpuCheckError } from './errors.js';

/** The Python kit replaces this with the folder of the model it builds on the machine that runs. */
export const MODEL_PLACEHOLDER = '@GPU_CHECK_MODEL@';
export const BATCH_SIZES = [1, 8, 32, 64] as const;

// Fixed output length (min = max): J/token and FLOPs compare like with like across batch sizes,
// and a random-weight model cannot stop early on EOS. Power polled every 0.1 s beside the counter.
const common = {
  model_name: MODEL_PLACEHOLDER,
  precision: 'bf16',
  gpu_ids: [0],
  max_input_tokens: 128,
  max_output_tokens: 64,
  min_output_tokens: 64,
  warmup_iterations: 2,
  energy: { backend: 'nvml', measure_power_secs: 0.1, idle_baseline_s: 5 },
} as const;

/** The experiments as a user would write them; each step of the kit runs one. */
export function experimentInputs(): Record<string, Record<string, unknown>> {
  const inputs: Record<string, Record<string, unknown>> = {
    // The longest window (20 batches of 8): counter vs polling, idle power (measured fresh here,
    // from the idle cache in the later steps).
    energy: { ...common, config_name: 'gpu-check-energy', batch_size: 8, num_input_prompts: 160 },
  };
  const prompts: Record<number, number> = { 1: 8, 8: 32, 32: 64, 64: 128 };
  for (const b of BATCH_SIZES) {
    inputs[`batch-${b}`] = {
      ...common,
      config_name: `gpu-check-batch-${b}`,
      batch_size: b,
      num_input_prompts: prompts[b],
    };
  }
  // Two ranks on the one GPU: gpu_ids [0, 1] because the contract wants a GPU id per process; the
  // kit starts accelerate itself, which puts both ranks on cuda:0 (see python/gpu_check/steps.py).
  inputs['two-ranks'] = {
    ...common,
    config_name: 'gpu-check-two-ranks',
    batch_size: 8,
    num_input_prompts: 32,
    num_processes: 2,
    gpu_ids: [0, 1],
  };
  // Step 6 (optional): `transformers serve` on the GPU, closed-loop users; the kit starts the server
  // ({model} {host} {port} filled as the TS launcher fills them) and sets server.url / devices.
  for (const [name, concurrency, requests] of [
    ['serving-c1', 1, 16],
    ['serving-c16', 16, 64],
  ] as const) {
    inputs[name] = {
      ...common,
      config_name: `gpu-check-${name}`,
      engine: 'server',
      min_output_tokens: 0, // transformers serve rejects min_tokens
      num_input_prompts: requests + 2, // a prompt of its own for each request and warm-up request
      server: {
        command: [
          'transformers',
          'serve',
          '{model}',
          '--device',
          'cuda',
          '--host',
          '{host}',
          '--port',
          '{port}',
          '--continuous-batching',
        ],
        api: 'completions', // the tiny tokenizer has no chat template
        ready_timeout_s: 240,
      },
      load: { pattern: 'closed_loop', concurrency, num_requests: requests, warmup_requests: 2 },
      energy: { ...common.energy, idle_baseline_s: 0 },
    };
  }
  return inputs;
}

/** Every experiment in its effective form (all defaults filled in by @joules/config), by step name. */
export function effectiveExperiments(): Record<string, Experiment> {
  const out: Record<string, Experiment> = {};
  for (const [name, input] of Object.entries(experimentInputs())) {
    const parsed = parseExperiment(input);
    if (parsed.config === undefined) {
      throw new GpuCheckError(
        `experiment ${name} is not valid for @joules/config: ${parsed.errors.join('; ')}`,
        'BAD_EXPERIMENT',
      );
    }
    out[name] = parsed.config;
  }
  return out;
}

/** The text of tools/gpu-check/experiments.json (what the Python kit reads on a machine without Node). */
export function experimentsFileText(): string {
  const file = {
    generated_by: 'npm run gpu-check -- --write-experiments (@joules/config parseExperiment); do not edit',
    model_name_placeholder: MODEL_PLACEHOLDER,
    experiments: effectiveExperiments(),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
