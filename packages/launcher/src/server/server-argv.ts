import { delimiter } from 'node:path';

/** What the placeholders of `server.command` stand for. */
export interface ServerPlaceholders {
  model: string;
  host: string;
  /** A number at launch; a placeholder text in a dry run. */
  port: number | string;
  /** The GPUs, comma-separated ("" on CPU). */
  gpuIds: readonly number[];
}

/** `server.command` with {model}, {host}, {port} and {gpu_ids} replaced (inside arguments too). */
export function serverArgv(command: readonly string[], p: ServerPlaceholders): string[] {
  const values: Record<string, string> = {
    '{model}': p.model,
    '{host}': p.host,
    '{port}': String(p.port),
    '{gpu_ids}': p.gpuIds.join(','),
  };
  return command.map((arg) => arg.replace(/\{(?:model|host|port|gpu_ids)\}/g, (m) => values[m] ?? m));
}

/** The environment of a started server: its GPUs in CUDA_VISIBLE_DEVICES (empty on CPU: no GPU). */
export function serverEnv(gpuIds: readonly number[]): Record<string, string> {
  return { CUDA_VISIBLE_DEVICES: gpuIds.join(','), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
}

/**
 * `server.env` with `pathPrefix` (the worker venv's bin) put first on its PATH: the PATH of
 * `server.env` where it sets one, else the inherited PATH.
 */
export function withPathPrefix(
  env: Readonly<Record<string, string>>,
  pathPrefix: string | undefined,
  inherited: string = process.env.PATH ?? '',
): Record<string, string> {
  if (pathPrefix === undefined) return { ...env };
  return { ...env, PATH: `${pathPrefix}${delimiter}${env.PATH ?? inherited}` };
}
