import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** The OpenAI-compatible servers the README has recipes for, by the executable that starts each. */
export const SERVING_ENGINES = [
  { name: 'transformers serve', bin: 'transformers' },
  { name: 'vLLM', bin: 'vllm' },
  { name: 'SGLang', bin: 'sglang' },
  { name: 'TGI', bin: 'text-generation-launcher' },
  { name: "llama.cpp's server", bin: 'llama-server' },
] as const;

export interface FoundEngine {
  name: string;
  bin: string;
  /** Where it is, or null when no folder of the search path has it. */
  path: string | null;
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Which serving engines are on `dirs` (default: `extra` then $PATH), for `joules doctor`. */
export async function findServingEngines(
  extra: readonly string[] = [],
  searchPath = process.env.PATH ?? '',
): Promise<FoundEngine[]> {
  const dirs = [...extra, ...searchPath.split(path.delimiter).filter(Boolean)];
  const out: FoundEngine[] = [];
  for (const e of SERVING_ENGINES) {
    let found: string | null = null;
    for (const d of dirs) {
      if (await executable(path.join(d, e.bin))) {
        found = path.join(d, e.bin);
        break;
      }
    }
    out.push({ name: e.name, bin: e.bin, path: found });
  }
  return out;
}
