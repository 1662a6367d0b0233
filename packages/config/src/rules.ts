import type { Experiment } from './experiment-schema.js';

/** A cross-field rule: returns `path: message` problems (errors) and warnings. */
export interface RuleResult {
  errors: string[];
  warnings: string[];
}
type Rule = (config: Experiment, out: RuleResult) => void;

const outputBounds: Rule = (c, out) => {
  if (c.min_output_tokens > c.max_output_tokens) {
    out.errors.push(
      `min_output_tokens: must be <= max_output_tokens (${c.min_output_tokens} > ${c.max_output_tokens})`,
    );
  }
};

const decodingParams: Rule = (c, out) => {
  if (c.decoding.mode !== 'greedy') return;
  for (const key of ['temperature', 'top_k', 'top_p'] as const) {
    if (c.decoding[key] !== null) {
      out.errors.push(`decoding.${key}: only valid when decoding.mode is "sampling" (mode is "greedy")`);
    }
  }
};

const datasetSource: Rule = (c, out) => {
  const d = c.dataset;
  if (d.source === 'file' && d.path === null) out.errors.push('dataset.path: required when dataset.source is "file"');
  if (d.source === 'hub' && d.name === null) out.errors.push('dataset.name: required when dataset.source is "hub"');
  if (d.source !== 'file' && d.path !== null) out.errors.push(`dataset.path: only valid when dataset.source is "file"`);
  if (d.source !== 'hub' && d.name !== null) out.errors.push(`dataset.name: only valid when dataset.source is "hub"`);
};

const gpuFit: Rule = (c, out) => {
  if (c.gpu_ids.length === 0) return;
  if (new Set(c.gpu_ids).size !== c.gpu_ids.length) out.errors.push('gpu_ids: must not repeat a GPU');
  if (c.num_processes > c.gpu_ids.length) {
    out.errors.push(`num_processes: ${c.num_processes} processes do not fit ${c.gpu_ids.length} GPU(s) in gpu_ids`);
  } else if (c.num_processes < c.gpu_ids.length) {
    out.warnings.push(`num_processes: ${c.gpu_ids.length - c.num_processes} GPU(s) in gpu_ids stay unused`);
  }
};

const cpuPrecision: Rule = (c, out) => {
  if (c.gpu_ids.length === 0 && c.precision === 'fp16') {
    out.warnings.push('precision: fp16 on CPU is slow and unrepresentative; consider bf16 or fp32');
  }
};

export const rules: readonly Rule[] = [outputBounds, decodingParams, datasetSource, gpuFit, cpuPrecision];

export function applyRules(config: Experiment): RuleResult {
  const out: RuleResult = { errors: [], warnings: [] };
  for (const rule of rules) rule(config, out);
  return out;
}
