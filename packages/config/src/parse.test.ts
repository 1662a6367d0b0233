import { describe, expect, it } from 'vitest';
import { parseExperiment } from './parse.js';
import { applyRules } from './rules.js';

const minimal = { config_name: 'demo', model_name: 'org/model' };
const gpus = { gpu_ids: [0, 1], num_processes: 2 };
const machines2 = { num_machines: 2, main_process_ip: '10.0.0.1', main_process_port: 29500 };

describe('parseExperiment', () => {
  it('fills every default of a minimal experiment (contract v2)', () => {
    const r = parseExperiment(minimal);
    expect(r.errors).toEqual([]);
    expect(r.config).toEqual({
      ...minimal,
      task_type: 'text_generation',
      suite: null,
      cycle_id: null,
      model: {
        revision: null,
        quantization: 'none',
        trust_remote_code: false,
        is_encoder_decoder: false,
        inference_type: 'pure_generative',
        attn_implementation: null,
      },
      dataset: {
        source: 'builtin',
        path: null,
        name: null,
        split: 'train',
        column: null,
        revision: null,
        format: 'auto',
      },
      prompt_ordering: 'as_given',
      num_input_prompts: 64,
      max_input_tokens: 128,
      max_output_tokens: 32,
      min_output_tokens: 0,
      lengths: { input: null, output: null, enforce: 'auto', seed: null },
      batch_size: 8,
      batching: { strategy: 'fixed', max_tokens_per_batch: null },
      precision: 'fp32',
      decoding: { mode: 'greedy', temperature: null, top_k: null, top_p: null },
      sharding: { strategy: 'none' },
      num_processes: 1,
      gpu_ids: [],
      launch: {
        launcher: 'auto',
        timeout_s: null,
        silence_timeout_s: null,
        slurm: {
          nodes: 1,
          gpus_per_node: 0,
          cpus_per_task: null,
          mem: null,
          partition: null,
          account: null,
          qos: null,
          time_limit: null,
          extra_args: [],
        },
        machines: { num_machines: 1, machine_rank: 0, main_process_ip: null, main_process_port: null },
      },
      traffic: {
        delay_min_ms: 0,
        delay_max_ms: 0,
        burst_size: null,
        burst_interval_ms: null,
        inside_energy_window: false,
      },
      energy: {
        backend: 'auto',
        country_iso_code: 'USA',
        measure_power_secs: 1,
        idle_baseline_s: 0,
        carbon_intensity_g_per_kwh: null,
        pue: 1,
        allow_shared_host: false,
      },
      gpu: { power_limit_w: null, sm_clock_mhz: null },
      warmup_iterations: 2,
      save_outputs: false,
      save_token_ids: false,
      retry: { max_retries: 3, backoff_base_s: 2, halve_batch_on_oom: true },
      seed: 0,
      engine: 'transformers',
      server: {
        command: null,
        url: null,
        host: '127.0.0.1',
        api: 'completions',
        dialect: 'auto',
        ready_timeout_s: 300,
        request_timeout_s: 120,
        extra_body: {},
        env: {},
        devices: null,
        metrics_url: null,
      },
      load: {
        pattern: 'closed_loop',
        concurrency: null,
        rate: null,
        burst_size: null,
        burst_interval_ms: null,
        num_requests: null,
        duration_s: null,
        max_tokens: null,
        warmup_requests: 2,
        max_error_share: 0.05,
        trace_file: null,
        trace_format: 'auto',
        prompt_reuse: false,
        shared_prefix_tokens: null,
        shared_prefix_count: 1,
        sessions: null,
      },
      slo: { ttft_ms: null, tpot_ms: null },
    });
  });

  // Each row: a patch over a minimal valid experiment, and the start of the one message it must give.
  it.each([
    [{ config_name: 'has space' }, 'config_name: use letters, digits'],
    [{ task_type: 'classification' }, 'task_type: Invalid input: expected "text_generation"'],
    [{ colour: 'red' }, 'colour: unknown key'],
    [{ model: { revision: 3 } }, 'model.revision: Invalid input: expected string'],
    [{ model: { quantization: 'int3' } }, 'model.quantization: Invalid option'],
    [{ model: { quantization: 'int8' } }, 'model.quantization: "int8" needs GPUs (bitsandbytes is CUDA-only)'],
    [{ model: { trust_remote_code: 'yes' } }, 'model.trust_remote_code: Invalid input: expected boolean'],
    [{ model: { inference_type: 'chat' } }, 'model.inference_type: Invalid input: expected "pure_generative"'],
    [{ model: { attn_implementation: 'flash' } }, 'model.attn_implementation: Invalid option'],
    [{ model: { flash: true } }, 'model.flash: unknown key'],
    [{ dataset: { source: 'file' } }, 'dataset.path: required when dataset.source is "file"'],
    [{ dataset: { source: 'hub' } }, 'dataset.name: required when dataset.source is "hub"'],
    [{ dataset: { path: 'p.jsonl' } }, 'dataset.path: only valid when dataset.source is "file"'],
    [{ dataset: { source: 'hub', name: 'a/b', revision: '' } }, 'dataset.revision: Too small'],
    [{ prompt_ordering: 'random' }, 'prompt_ordering: Invalid option'],
    [{ num_input_prompts: 0 }, 'num_input_prompts: Too small'],
    [{ min_output_tokens: 20, max_output_tokens: 10 }, 'min_output_tokens: must be <= max_output_tokens (20 > 10)'],
    [{ batch_size: 'four' }, 'batch_size: Invalid input: expected number, received string'],
    [{ batch_size: 2.5 }, 'batch_size: Invalid input: expected int'],
    [
      { batching: { strategy: 'adaptive' } },
      'batching.max_tokens_per_batch: required when batching.strategy is "adaptive"',
    ],
    [
      { batching: { max_tokens_per_batch: 2048 } },
      'batching.max_tokens_per_batch: only valid when batching.strategy is "adaptive"',
    ],
    [{ batching: { strategy: 'adaptive', max_tokens_per_batch: -5 } }, 'batching.max_tokens_per_batch: Too small'],
    [{ precision: 'fp8' }, 'precision: Invalid option'],
    [{ decoding: { mode: 'greedy', temprature: 1 } }, 'decoding.temprature: unknown key'],
    [{ decoding: { temperature: 0.7 } }, 'decoding.temperature: only valid when decoding.mode is "sampling"'],
    [{ decoding: { top_k: 5 } }, 'decoding.top_k: only valid when decoding.mode is "sampling"'],
    [{ decoding: { mode: 'sampling', top_p: 1.5 } }, 'decoding.top_p: Too big'],
    [{ sharding: { strategy: 'deepspeed' } }, 'sharding.strategy: Invalid option'],
    [{ sharding: { strategy: 'fsdp' } }, 'sharding.strategy: "fsdp" needs num_processes > 1 (num_processes is 1)'],
    [{ num_processes: 4, gpu_ids: [0, 1] }, 'num_processes: 4 processes do not fit 2 GPU(s) in gpu_ids'],
    [{ gpu_ids: [1, 1], num_processes: 1 }, 'gpu_ids: must not repeat a GPU'],
    [
      { launch: { launcher: 'python' }, num_processes: 2 },
      'launch.launcher: "python" runs one process; num_processes is 2: use "accelerate" (or "slurm")',
    ],
    [{ gpu_ids: [0, -1] }, 'gpu_ids[1]: Too small'],
    [
      { launch: { launcher: 'sge' } },
      'launch.launcher: expected "auto", "accelerate", "python", "slurm", or a module path',
    ],
    [{ launch: { slurm: { nodes: 0 } } }, 'launch.slurm.nodes: Too small'],
    [{ launch: { slurm: { nodes: 1.5 } } }, 'launch.slurm.nodes: Invalid input: expected int'],
    [{ launch: { slurm: { gpus_per_node: -1 } } }, 'launch.slurm.gpus_per_node: Too small'],
    [{ launch: { slurm: { cpus_per_task: 0 } } }, 'launch.slurm.cpus_per_task: Too small'],
    [{ launch: { slurm: { mem: '64 GB' } } }, 'launch.slurm.mem: expected a size such as 64G'],
    [{ launch: { slurm: { partition: 'gpu; rm -rf /' } } }, 'launch.slurm.partition: expected a Slurm name'],
    [{ launch: { slurm: { account: '' } } }, 'launch.slurm.account: expected a Slurm name'],
    [{ launch: { slurm: { qos: 'high prio' } } }, 'launch.slurm.qos: expected a Slurm name'],
    [{ launch: { slurm: { time_limit: '2 hours' } } }, 'launch.slurm.time_limit: expected minutes or a Slurm time'],
    [{ launch: { slurm: { time_limit: 0 } } }, 'launch.slurm.time_limit: Too small'],
    [{ launch: { slurm: { extra_args: ['exclusive'] } } }, 'launch.slurm.extra_args[0]: expected an sbatch option'],
    [{ launch: { slurm: { extra_args: '--exclusive' } } }, 'launch.slurm.extra_args: Invalid input: expected array'],
    [{ launch: { slurm: { node: 2 } } }, 'launch.slurm.node: unknown key'],
    [
      { num_processes: 3, launch: { launcher: 'slurm', slurm: { nodes: 2 } } },
      'num_processes: 3 processes do not split evenly over 2 nodes',
    ],
    [
      { num_processes: 6, gpu_ids: [0, 1], launch: { launcher: 'slurm', slurm: { nodes: 2, gpus_per_node: 2 } } },
      'num_processes: 6 processes do not fit 2 GPU(s) in gpu_ids × 2 nodes',
    ],
    [
      { launch: { launcher: 'slurm', slurm: { gpus_per_node: 4 } } },
      'launch.slurm.gpus_per_node: asks for 4 GPU(s) per node, but gpu_ids is empty',
    ],
    [{ gpu_ids: [0], launch: { launcher: 'slurm' } }, 'launch.slurm.gpus_per_node: must be > 0 when gpu_ids is set'],
    [
      { gpu_ids: [0, 1], num_processes: 2, launch: { launcher: 'slurm', slurm: { gpus_per_node: 1 } } },
      'gpu_ids: 2 GPU(s) per node, but launch.slurm.gpus_per_node allocates 1',
    ],
    [{ launch: { timeout_s: 0 } }, 'launch.timeout_s: Too small'],
    [{ launch: { machines: { num_machines: 0 } } }, 'launch.machines.num_machines: Too small'],
    [{ launch: { machines: { machine_rank: -1 } } }, 'launch.machines.machine_rank: Too small'],
    [{ launch: { machines: { main_process_ip: '' } } }, 'launch.machines.main_process_ip: Too small'],
    [{ launch: { machines: { main_process_port: 70000 } } }, 'launch.machines.main_process_port: Too big'],
    [
      { launch: { machines: { machine_rank: 1 } } },
      'launch.machines.machine_rank: must be < launch.machines.num_machines (1 >= 1)',
    ],
    [
      { num_processes: 2, launch: { machines: { num_machines: 2, main_process_port: 29500 } } },
      'launch.machines.main_process_ip: required when launch.machines.num_machines > 1',
    ],
    [
      { num_processes: 2, launch: { machines: { num_machines: 2, main_process_ip: '10.0.0.1' } } },
      'launch.machines.main_process_port: required when launch.machines.num_machines > 1',
    ],
    [
      { num_processes: 3, launch: { machines: { ...machines2 } } },
      'num_processes: 3 processes do not split evenly over 2 machines (launch.machines.num_machines)',
    ],
    [
      { num_processes: 2, launch: { launcher: 'slurm', machines: { ...machines2 } } },
      'launch.machines.num_machines: not with launch.launcher "slurm": Slurm starts the machines itself',
    ],
    [
      { num_processes: 2, launch: { launcher: './mine.mjs', machines: { ...machines2 } } },
      'launch.machines.num_machines: > 1 needs launch.launcher "accelerate" (launcher is "./mine.mjs")',
    ],
    [
      { num_processes: 6, gpu_ids: [0, 1], launch: { machines: { ...machines2 } } },
      'num_processes: 6 processes do not fit 2 GPU(s) in gpu_ids × 2 machines (launch.machines.num_machines)',
    ],
    [{ launch: { silence_timeout_s: -1 } }, 'launch.silence_timeout_s: Too small'],
    [
      { traffic: { delay_min_ms: 20, delay_max_ms: 10 } },
      'traffic.delay_max_ms: must be >= traffic.delay_min_ms (10 < 20)',
    ],
    [{ traffic: { delay_min_ms: -1 } }, 'traffic.delay_min_ms: Too small'],
    [{ traffic: { burst_size: 4 } }, 'traffic.burst_interval_ms: required when traffic.burst_size is set'],
    [{ traffic: { burst_interval_ms: 100 } }, 'traffic.burst_size: required when traffic.burst_interval_ms is set'],
    [{ traffic: { inside_energy_window: 'no' } }, 'traffic.inside_energy_window: Invalid input: expected boolean'],
    [{ energy: { backend: 'joulemeter' } }, 'energy.backend: Invalid option'],
    [{ energy: { backend: 'nvml' } }, 'energy.backend: "nvml" measures GPUs; set gpu_ids'],
    [{ energy: { backend: 'zeus' } }, 'energy.backend: "zeus" measures GPUs; set gpu_ids'],
    [{ energy: { country_iso_code: 'us' } }, 'energy.country_iso_code: expected a 3-letter ISO'],
    [{ energy: { pue: 0.9 } }, 'energy.pue: Too small'],
    [{ energy: { carbon_intensity_g_per_kwh: -1 } }, 'energy.carbon_intensity_g_per_kwh: Too small'],
    [{ energy: { idle_baseline_s: -5 } }, 'energy.idle_baseline_s: Too small'],
    [{ warmup_iterations: 'sometimes' }, 'warmup_iterations: expected an integer from 0 to 100, or "auto"'],
    [{ warmup_iterations: 101 }, 'warmup_iterations: Too big'],
    [{ save_token_ids: 'yes' }, 'save_token_ids: Invalid input: expected boolean'],
    [{ retry: { max_retries: -1 } }, 'retry.max_retries: Too small'],
    [{ retry: { backoff_base_s: -2 } }, 'retry.backoff_base_s: Too small'],
    [{ retry: { halve_batch_on_oom: 1 } }, 'retry.halve_batch_on_oom: Invalid input: expected boolean'],
  ])('rejects %j with a message naming the field', (patch, expected) => {
    const r = parseExperiment({ ...minimal, ...patch });
    expect(r.config).toBeUndefined();
    expect(r.errors.filter((e) => e.startsWith(expected))).toHaveLength(1);
  });

  it('reports every problem at once', () => {
    const r = parseExperiment({ model_name: 3, batch_size: -1, extra: true });
    expect(r.errors.map((e) => e.split(':')[0]).sort()).toEqual(['batch_size', 'config_name', 'extra', 'model_name']);
  });

  it('still runs the cross-field rules over the keys the schema accepted', () => {
    const r = parseExperiment({
      ...minimal,
      batch_size: 'x', // a type error elsewhere does not hide the contradictions below
      min_output_tokens: 50,
      max_output_tokens: 10,
      decoding: { temperature: 0.5 },
      traffic: { burst_size: 2 },
      energy: { backend: 'nvml' },
    });
    expect(r.errors).toEqual([
      'batch_size: Invalid input: expected number, received string',
      'min_output_tokens: must be <= max_output_tokens (50 > 10)',
      'decoding.temperature: only valid when decoding.mode is "sampling" (mode is "greedy")',
      'traffic.burst_interval_ms: required when traffic.burst_size is set',
      'energy.backend: "nvml" measures GPUs; set gpu_ids, or use "auto", "codecarbon", "rapl" or "none"',
    ]);
  });

  it('skips a rule whose keys the schema rejected (no guesses from bad values)', () => {
    const r = parseExperiment({
      ...minimal,
      max_output_tokens: 'ten',
      min_output_tokens: 50,
      gpu_ids: 'all',
      num_processes: 8,
    });
    expect(r.errors).toEqual([
      'max_output_tokens: Invalid input: expected number, received string',
      'gpu_ids: Invalid input: expected array, received string',
    ]);
  });

  it('accepts every v2 option together when consistent', () => {
    const r = parseExperiment({
      ...minimal,
      ...gpus,
      model: { revision: 'main', quantization: 'int4', trust_remote_code: true, attn_implementation: 'sdpa' },
      dataset: { source: 'hub', name: 'AIEnergyScore/text_generation', revision: 'abc123' },
      prompt_ordering: 'shuffle',
      batching: { strategy: 'adaptive', max_tokens_per_batch: 4096 },
      decoding: { mode: 'sampling', temperature: 0.7, top_k: 50, top_p: 0.9 },
      sharding: { strategy: 'fsdp' },
      launch: { launcher: './my-launcher.mjs', timeout_s: 600, silence_timeout_s: 60 },
      traffic: { delay_min_ms: 5, delay_max_ms: 50, burst_size: 4, burst_interval_ms: 200, inside_energy_window: true },
      energy: { backend: 'nvml', idle_baseline_s: 5, carbon_intensity_g_per_kwh: 56, pue: 1.3 },
      warmup_iterations: 'auto',
      save_token_ids: true,
      retry: { max_retries: 0, backoff_base_s: 1, halve_batch_on_oom: false },
    });
    expect(r.errors).toEqual([]);
    expect(r.config?.warmup_iterations).toBe('auto');
  });

  it('accepts a multi-node Slurm experiment: gpu_ids are the GPUs of each node', () => {
    const slurm = {
      nodes: 2,
      gpus_per_node: 4,
      cpus_per_task: 32,
      mem: '256G',
      partition: 'gpu',
      account: 'my-project',
      qos: 'normal',
      time_limit: '1-02:00:00',
      extra_args: ['--exclusive'],
    };
    const r = parseExperiment({
      ...minimal,
      num_processes: 8,
      gpu_ids: [0, 1, 2, 3],
      launch: { launcher: 'slurm', slurm },
    });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config?.launch.slurm).toEqual(slurm);
    expect(
      parseExperiment({ ...minimal, launch: { launcher: 'slurm', slurm: { time_limit: 90 } } }).config?.launch.slurm
        .time_limit,
    ).toBe(90);
    // Without slurm, the same world of 8 does not fit 4 GPUs.
    expect(parseExperiment({ ...minimal, num_processes: 8, gpu_ids: [0, 1, 2, 3], launch: { slurm } }).errors).toEqual([
      'num_processes: 8 processes do not fit 4 GPU(s) in gpu_ids',
    ]);
  });

  it('accepts two machines started by hand: gpu_ids are the GPUs of each machine', () => {
    const machines = { ...machines2, machine_rank: 1 };
    const r = parseExperiment({ ...minimal, num_processes: 8, gpu_ids: [0, 1, 2, 3], launch: { machines } });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config?.launch.machines).toEqual(machines);
    const cpu = parseExperiment({ ...minimal, num_processes: 4, launch: { machines } });
    expect([cpu.errors, cpu.warnings]).toEqual([[], []]);
  });

  it('warns when the address of machine 0 is set for a single machine', () => {
    const r = parseExperiment({
      ...minimal,
      launch: { machines: { main_process_ip: 'node0', main_process_port: 29500 } },
    });
    expect(r.config).toBeDefined();
    expect(r.warnings).toEqual([
      'launch.machines: main_process_ip, main_process_port set but ignored: launch.machines.num_machines is 1',
    ]);
  });

  it('warns when launch.slurm is set for another launcher', () => {
    const r = parseExperiment({ ...minimal, launch: { slurm: { nodes: 2, mem: '8G' } } });
    expect(r.config).toBeDefined();
    expect(r.warnings).toEqual(['launch.slurm: nodes, mem set but ignored: launch.launcher is "auto", not "slurm"']);
    expect(parseExperiment({ ...minimal, launch: { slurm: { nodes: 1 } } }).warnings).toEqual([]);
  });

  it('warns on unused GPUs and fp16 on CPU, without failing', () => {
    expect(parseExperiment({ ...minimal, gpu_ids: [0, 1, 2], num_processes: 2 }).warnings).toEqual([
      'num_processes: 1 GPU(s) in gpu_ids stay unused',
    ]);
    const cpu = parseExperiment({ ...minimal, precision: 'fp16' });
    expect(cpu.config).toBeDefined();
    expect(cpu.warnings).toEqual(['precision: fp16 on CPU is slow and unrepresentative; consider bf16 or fp32']);
  });

  it('applyRules keeps its 0.1 shape: path: message lines', () => {
    const config = parseExperiment({ ...minimal, max_output_tokens: 64 }).config!;
    expect(applyRules({ ...config, min_output_tokens: 65 })).toEqual({
      errors: ['min_output_tokens: must be <= max_output_tokens (65 > 64)'],
      warnings: [],
    });
  });
});
