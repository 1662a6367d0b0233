// The real worker (python/.venv) on the tiny model in session mode, through the real launchers:
// plain python (one process) and `accelerate launch` with two CPU ranks (rank 0 reads stdin and
// broadcasts each experiment over gloo).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Experiment, parseExperiment } from '@joules/config';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../__fixtures__/helpers.js';
import { AccelerateLauncher } from '../accelerate-launcher.js';
import type { LaunchEvent, Launcher, LaunchJob } from '../launcher.js';
import { LAUNCH_MARKER, markedPids } from '../process-tree.js';
import { PythonLauncher } from '../python-launcher.js';
import { WorkerSession } from './worker-session.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const python = repo('python/.venv/bin/python');
const accelerate = repo('python/.venv/bin/accelerate');
const tinyModel = repo('.joules/models/tiny-llama');

function experiment(patch: Record<string, unknown>): Experiment {
  const r = parseExperiment({
    config_name: 'real',
    model_name: tinyModel,
    num_input_prompts: 4,
    max_output_tokens: 4,
    batch_size: 2,
    warmup_iterations: 1,
    energy: { backend: 'none' },
    ...patch,
  });
  if (!r.config) throw new Error(r.errors.join('\n'));
  return r.config;
}

async function runAll(launcher: Launcher, patches: Record<string, unknown>[]) {
  const dir = await tempDir();
  const env = { HF_HUB_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', JOULES_CACHE_DIR: path.join(dir, 'cache') };
  const session = new WorkerSession(launcher, { killGraceMs: 1000 });
  let marker: string | undefined;
  const outcomes = [];
  const jobs: LaunchJob[] = patches.map((patch, i) => ({
    id: `exp-${i}`,
    experiment: experiment({ config_name: `exp-${i}`, ...patch }),
    outputDir: path.join(dir, `exp-${i}`),
    logFile: path.join(dir, `exp-${i}.log`),
    env,
    timeoutMs: 90_000,
    silenceTimeoutMs: 60_000,
  }));
  for (const job of jobs) {
    const onEvent = async (e: LaunchEvent) => {
      if (e.type !== 'started') return;
      const environ = await readFile(`/proc/${e.pid}/environ`, 'utf8');
      marker = environ
        .split('\0')
        .find((kv) => kv.startsWith(`${LAUNCH_MARKER}=`))
        ?.slice(LAUNCH_MARKER.length + 1);
    };
    outcomes.push(await session.run(job, { onEvent: (e) => void onEvent(e) }));
  }
  await session.close();
  const measurements = await Promise.all(
    outcomes.map(async (o) =>
      o.status === 'succeeded' ? Promise.all(o.rankFiles.map(async (f) => JSON.parse(await readFile(f, 'utf8')))) : [],
    ),
  );
  return { outcomes, measurements, jobs, marker };
}

describe('WorkerSession with the real worker on the tiny model', { timeout: 240_000 }, () => {
  it('python launcher: three experiments, one load, one process, nothing left after close', async () => {
    const { outcomes, measurements, jobs, marker } = await runAll(new PythonLauncher({ pythonBin: python }), [
      {},
      { batch_size: 1, max_output_tokens: 3, seed: 3 },
      { num_input_prompts: 3, prompt_ordering: 'sorted_by_length' },
    ]);
    expect(
      outcomes.map((o) => o.status),
      JSON.stringify(outcomes),
    ).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(outcomes.map((o) => o.modelReused)).toEqual([false, true, true]);
    expect(outcomes[0]?.modelLoadS).toBeGreaterThan(0);
    expect(outcomes.slice(1).map((o) => o.modelLoadS)).toEqual([0, 0]);
    const rank0 = measurements.map((m) => m[0]);
    expect(new Set(rank0.map((m) => m.pid)).size).toBe(1);
    expect(rank0.map((m) => m.environment.model_reused)).toEqual([false, true, true]);
    expect(rank0.map((m) => m.tokens.num_prompts)).toEqual([4, 4, 3]);
    expect(rank0[1].batches.map((b: { size: number }) => b.size)).toEqual([1, 1, 1, 1]);
    for (const [i, job] of jobs.entries()) {
      const log = await readFile(job.logFile, 'utf8');
      expect(log).toContain(`=== session experiment ${i}: exp-${i}`);
      expect(log).not.toContain(`=== session experiment ${i + 1}:`);
    }
    expect(marker).toBeTruthy();
    expect(await markedPids(marker!)).toEqual([]);
  });

  it('accelerate launcher, two CPU ranks: rank 0 reads, both ranks run every experiment', async () => {
    const launcher = new AccelerateLauncher({ accelerateBin: accelerate });
    const { outcomes, measurements, marker } = await runAll(launcher, [
      { num_processes: 2 },
      { num_processes: 2, batch_size: 1, num_input_prompts: 3 },
    ]);
    expect(
      outcomes.map((o) => o.status),
      JSON.stringify(outcomes),
    ).toEqual(['succeeded', 'succeeded']);
    expect(outcomes.map((o) => o.modelReused)).toEqual([false, true]);
    for (const ranks of measurements)
      expect(ranks.map((m) => [m.rank, m.world_size])).toEqual([
        [0, 2],
        [1, 2],
      ]);
    // the same two processes ran both experiments; the 3 prompts were split 2 + 1
    expect(measurements[1]?.map((m) => m.pid)).toEqual(measurements[0]?.map((m) => m.pid));
    expect(measurements[1]?.map((m) => m.tokens.num_prompts)).toEqual([2, 1]);
    expect(await markedPids(marker!)).toEqual([]);
  });
});
