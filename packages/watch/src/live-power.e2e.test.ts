import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunnerEvent, runExperiment } from '@joules/runner';
import { useFakeNvml } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, startWatch, type WatchStatus } from './index.js';

// The whole path of live power: the real worker on the tiny model (CPU) with NVML faked
// (useFakeNvml: one GPU at a constant 150 W) → its `power` events on stdout → the
// launcher → `experiment-power` runner events → the watch's /api/status and /metrics.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const model = path.join(root, '.joules/models/tiny-llama');
const UUID = 'GPU-7a770000-fake-4e1b-9a3d-0123456789ab';

let dir = '';
let restore = () => {};
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-power-'));
  restore = await useFakeNvml(dir, [{ uuid: UUID, name: 'NVIDIA H200', power_w: 150, power_limit_w: 700 }]);
});
afterAll(async () => {
  restore();
  await rm(dir, { recursive: true, force: true });
});

describe('live power (slow)', () => {
  it("a faked GPU's watts reach /api/status and /metrics while the experiment runs", { timeout: 300_000 }, async () => {
    const config = path.join(dir, 'power.yaml');
    await writeFile(
      config,
      [
        'config_name: live-power',
        `model_name: ${model}`,
        'num_input_prompts: 8',
        'max_input_tokens: 32',
        'max_output_tokens: 8',
        'min_output_tokens: 8',
        'batch_size: 1',
        'warmup_iterations: 0',
        'gpu_ids: [0]',
        'energy: { backend: nvml, measure_power_secs: 0.05 }',
        'launch: { launcher: python }',
        '',
      ].join('\n'),
    );
    const results = path.join(dir, 'results');
    const watch = await startWatch({ resultsDir: results, port: 0 });
    const events: RunnerEvent[] = [];
    let during: Promise<[WatchStatus, string]> | undefined;
    try {
      const outcome = await runExperiment({
        config,
        resultsDir: results,
        onEvent: (e) => {
          events.push(e);
          watch.feed(e);
          if (e.type === 'experiment-power' && !during)
            during = Promise.all([watch.status(), fetch(`${watch.url}metrics`).then((r) => r.text())]);
        },
      });
      if (outcome.status !== 'succeeded') {
        const log = 'logFile' in outcome ? await readFile(outcome.logFile, 'utf8').catch(() => '') : '';
        throw new Error(`run ${outcome.status}: ${JSON.stringify(outcome)}\n${log.slice(-4000)}`);
      }
      const power = events.filter((e) => e.type === 'experiment-power');
      expect(power.length).toBeGreaterThan(0);
      expect(power.every((e) => e.watts === 150 && e.device === `${e.host}/gpu/${UUID}`)).toBe(true);
      expect(during).toBeDefined();
      const [status, metrics] = await during!;
      expect(status.power).toEqual([
        expect.objectContaining({ device: power[0]!.device, host: power[0]!.host, watts: 150 }),
      ]);
      const gauge = parsePrometheusText(metrics).get('joules_power_watts')!;
      expect(gauge.samples).toEqual([
        { name: 'joules_power_watts', labels: { host: power[0]!.host, device: power[0]!.device }, value: 150 },
      ]);
      // Once finished, no stale reading stays behind.
      expect((await watch.status()).power).toEqual([]);
    } finally {
      await watch.close();
    }
  });
});
