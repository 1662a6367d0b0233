import { backendTraits, ENERGY_BACKEND_NAMES, isEnergyBackend } from './engines/energy-backend-table.js';
import { ENGINE_RULES } from './engines/engine-rules.js';
import { startsServer } from './engines/engine-table.js';
import type { Experiment } from './experiment-schema.js';
import { SlurmSchema } from './experiment-sections.js';
import { GPU_RULES } from './gpu-section.js';
import { type Findings, problemText } from './problems.js';
import { err, quotedList, type Rule, rule, setKeys, warn } from './rule.js';
import { LENGTHS_RULES } from './workload-section.js';

/** Backends an experiment on CPU may name: "auto" and every one that needs no GPU. */
const cpuBackends = () => quotedList(['auto', ...ENERGY_BACKEND_NAMES.filter((n) => !backendTraits(n).needsGpus)]);

export const rules: readonly Rule[] = [
  rule('output-bounds', ['min_output_tokens', 'max_output_tokens'], (c, out) => {
    if (c.min_output_tokens > c.max_output_tokens) {
      err(out, 'min_output_tokens', `must be <= max_output_tokens (${c.min_output_tokens} > ${c.max_output_tokens})`);
    }
  }),
  rule('sampling-parameters', ['decoding'], (c, out) => {
    if (c.decoding.mode !== 'greedy') return;
    for (const key of ['temperature', 'top_k', 'top_p'] as const) {
      if (c.decoding[key] !== null)
        err(out, `decoding.${key}`, 'only valid when decoding.mode is "sampling" (mode is "greedy")');
    }
  }),
  rule('dataset-source', ['dataset'], (c, out) => {
    const d = c.dataset;
    if (d.source === 'file' && d.path === null) err(out, 'dataset.path', 'required when dataset.source is "file"');
    if (d.source === 'hub' && d.name === null) err(out, 'dataset.name', 'required when dataset.source is "hub"');
    if (d.source !== 'file' && d.path !== null) err(out, 'dataset.path', 'only valid when dataset.source is "file"');
    if (d.source !== 'hub' && d.name !== null) err(out, 'dataset.name', 'only valid when dataset.source is "hub"');
  }),
  rule('python-launcher-one-process', ['launch', 'num_processes'], (c, out) => {
    if (c.launch.launcher === 'python' && c.num_processes > 1) {
      err(
        out,
        'launch.launcher',
        `"python" runs one process; num_processes is ${c.num_processes}: use "accelerate" (or "slurm")`,
      );
    }
  }),
  rule('gpu-ids-unique', ['gpu_ids'], (c, out) => {
    if (new Set(c.gpu_ids).size !== c.gpu_ids.length) err(out, 'gpu_ids', 'must not repeat a GPU');
  }),
  rule('processes-fit-gpus', ['gpu_ids', 'num_processes', 'launch'], (c, out) => {
    const n = c.gpu_ids.length;
    if (n === 0 || startsServer(c)) return; // a server's GPUs are the server's, not worker processes
    // On several machines gpu_ids are the GPUs of each one: the world fits len(gpu_ids) × machines.
    const slurm = c.launch.launcher === 'slurm';
    const nodes = slurm ? c.launch.slurm.nodes : c.launch.machines.num_machines;
    const where =
      nodes > 1
        ? slurm
          ? ` × ${nodes} nodes (launch.slurm.nodes)`
          : ` × ${nodes} machines (launch.machines.num_machines)`
        : '';
    if (c.num_processes > n * nodes)
      err(out, 'num_processes', `${c.num_processes} processes do not fit ${n} GPU(s) in gpu_ids${where}`);
    else if (c.num_processes < n * nodes)
      warn(out, 'num_processes', `${n * nodes - c.num_processes} GPU(s) in gpu_ids${where} stay unused`);
  }),
  rule('slurm-nodes', ['num_processes', 'launch'], (c, out) => {
    const { nodes } = c.launch.slurm;
    if (c.launch.launcher !== 'slurm' || startsServer(c) || c.num_processes % nodes === 0) return; // server: servingLaunch
    err(
      out,
      'num_processes',
      `${c.num_processes} processes do not split evenly over ${nodes} nodes (launch.slurm.nodes)`,
    );
  }),
  rule('slurm-gpus', ['gpu_ids', 'launch'], (c, out) => {
    const g = c.launch.slurm.gpus_per_node;
    if (c.launch.launcher !== 'slurm') return;
    if (g > 0 && c.gpu_ids.length === 0)
      err(
        out,
        'launch.slurm.gpus_per_node',
        `asks for ${g} GPU(s) per node, but gpu_ids is empty (run on CPU); set gpu_ids to the GPUs of each node`,
      );
    if (g === 0 && c.gpu_ids.length > 0)
      err(
        out,
        'launch.slurm.gpus_per_node',
        'must be > 0 when gpu_ids is set: on Slurm the GPUs come from the allocation',
      );
    if (g > 0 && c.gpu_ids.length > g)
      err(out, 'gpu_ids', `${c.gpu_ids.length} GPU(s) per node, but launch.slurm.gpus_per_node allocates ${g}`);
  }),
  rule('slurm-unused', ['launch'], (c, out) => {
    if (c.launch.launcher === 'slurm') return;
    const set = setKeys(c.launch.slurm, SlurmSchema.parse({}));
    if (set.length > 0)
      warn(
        out,
        'launch.slurm',
        `${set.join(', ')} set but ignored: launch.launcher is "${c.launch.launcher}", not "slurm"`,
      );
  }),
  rule('machines', ['num_processes', 'launch'], (c, out) => {
    const m = c.launch.machines;
    if (m.machine_rank >= m.num_machines) {
      err(
        out,
        'launch.machines.machine_rank',
        `must be < launch.machines.num_machines (${m.machine_rank} >= ${m.num_machines})`,
      );
    }
    if (m.num_machines === 1) {
      const set = (['main_process_ip', 'main_process_port'] as const).filter((k) => m[k] !== null);
      if (set.length > 0)
        warn(out, 'launch.machines', `${set.join(', ')} set but ignored: launch.machines.num_machines is 1`);
      return;
    }
    const launcher = c.launch.launcher;
    if (launcher === 'slurm') {
      err(
        out,
        'launch.machines.num_machines',
        'not with launch.launcher "slurm": Slurm starts the machines itself (set launch.slurm.nodes)',
      );
    } else if (launcher !== 'accelerate' && launcher !== 'auto') {
      err(out, 'launch.machines.num_machines', `> 1 needs launch.launcher "accelerate" (launcher is "${launcher}")`);
    }
    if (m.main_process_ip === null)
      err(
        out,
        'launch.machines.main_process_ip',
        'required when launch.machines.num_machines > 1 (the address of machine 0)',
      );
    if (m.main_process_port === null)
      err(
        out,
        'launch.machines.main_process_port',
        'required when launch.machines.num_machines > 1 (the same port on every machine)',
      );
    if (c.num_processes % m.num_machines !== 0) {
      err(
        out,
        'num_processes',
        `${c.num_processes} processes do not split evenly over ${m.num_machines} machines (launch.machines.num_machines)`,
      );
    }
  }),
  rule('batching-budget', ['batching'], (c, out) => {
    const b = c.batching;
    if (b.strategy === 'adaptive' && b.max_tokens_per_batch === null) {
      err(out, 'batching.max_tokens_per_batch', 'required when batching.strategy is "adaptive"');
    }
    if (b.strategy === 'fixed' && b.max_tokens_per_batch !== null) {
      err(
        out,
        'batching.max_tokens_per_batch',
        'only valid when batching.strategy is "adaptive" (strategy is "fixed")',
      );
    }
  }),
  rule('traffic-delay', ['traffic'], (c, out) => {
    const t = c.traffic;
    if (t.delay_max_ms < t.delay_min_ms) {
      err(out, 'traffic.delay_max_ms', `must be >= traffic.delay_min_ms (${t.delay_max_ms} < ${t.delay_min_ms})`);
    }
  }),
  rule('traffic-burst', ['traffic'], (c, out) => {
    const t = c.traffic;
    if (t.burst_size !== null && t.burst_interval_ms === null) {
      err(out, 'traffic.burst_interval_ms', 'required when traffic.burst_size is set');
    }
    if (t.burst_size === null && t.burst_interval_ms !== null) {
      err(out, 'traffic.burst_size', 'required when traffic.burst_interval_ms is set');
    }
  }),
  rule('quantization-needs-gpu', ['model', 'gpu_ids'], (c, out) => {
    const q = c.model.quantization;
    if (q !== 'none' && c.gpu_ids.length === 0) {
      err(out, 'model.quantization', `"${q}" needs GPUs (bitsandbytes is CUDA-only); set gpu_ids`);
    }
  }),
  rule('fsdp-needs-processes', ['sharding', 'num_processes'], (c, out) => {
    if (c.sharding.strategy === 'fsdp' && c.num_processes < 2) {
      err(out, 'sharding.strategy', `"fsdp" needs num_processes > 1 (num_processes is ${c.num_processes})`);
    }
  }),
  rule('gpu-energy-backend', ['energy', 'gpu_ids'], (c, out) => {
    const b = c.energy.backend;
    if (isEnergyBackend(b) && backendTraits(b).needsGpus && c.gpu_ids.length === 0) {
      err(out, 'energy.backend', `"${b}" measures GPUs; set gpu_ids, or use ${cpuBackends()}`);
    }
  }),
  rule('cpu-precision', ['gpu_ids', 'precision'], (c, out) => {
    if (c.gpu_ids.length === 0 && c.precision === 'fp16') {
      warn(out, 'precision', 'fp16 on CPU is slow and unrepresentative; consider bf16 or fp32');
    }
  }),
  // gpu.power_limit_w / gpu.sm_clock_mhz (gpu-section.ts)
  ...GPU_RULES,
  ...LENGTHS_RULES,
  // the engines' own (engines/engine-rules.ts)
  ...ENGINE_RULES,
];

/** Run every rule whose keys are all in `valid` (all rules when `valid` is omitted). */
export function checkRules(config: Experiment, valid?: ReadonlySet<string>): Findings {
  const out: Findings = { errors: [], warnings: [] };
  for (const r of rules) {
    if (valid && !r.uses.every((k) => valid.has(k))) continue;
    const [e, w] = [out.errors.length, out.warnings.length];
    r.check(config, out);
    for (const p of [...out.errors.slice(e), ...out.warnings.slice(w)]) p.rule = r.name;
  }
  return out;
}

/** The cross-field rules of a schema-valid experiment, as `path: message` lines. */
export function applyRules(config: Experiment): { errors: string[]; warnings: string[] } {
  const { errors, warnings } = checkRules(config);
  return { errors: errors.map(problemText), warnings: warnings.map(problemText) };
}
