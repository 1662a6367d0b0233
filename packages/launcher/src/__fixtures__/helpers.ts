import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Experiment, parseExperiment } from '@joules/config';
import type { LaunchJob } from '../launcher.js';
import { tempDir } from './temp-dirs.js';

/** The fixture worker (also stands in for `accelerate`). */
export const fake = fileURLToPath(new URL('./fake-python.mjs', import.meta.url));

export function experiment(patch: Record<string, unknown> = {}): Experiment {
  const r = parseExperiment({ config_name: 'fake', model_name: 'org/model', ...patch });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
}

export { tempDir };

/** A job in a fresh temp folder running the fixture scenario. */
export async function job(
  scenario: string,
  patch: Record<string, unknown> = {},
  extra: Partial<LaunchJob> = {},
): Promise<LaunchJob & { dir: string }> {
  const dir = await tempDir();
  return {
    dir,
    experiment: experiment(patch),
    outputDir: path.join(dir, 'out'),
    logFile: path.join(dir, 'worker.log'),
    ...extra,
    env: { FAKE_SCENARIO: scenario, FAKE_ARGV_FILE: path.join(dir, 'argv.json'), ...extra.env },
  };
}

/** Alive = signalable and not a zombie (an exited process nobody reaped yet holds nothing). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Poll until `check` holds or `ms` pass; returns whether it held. For waiting, never for timing. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
