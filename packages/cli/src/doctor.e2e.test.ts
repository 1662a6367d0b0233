import { describe, expect, it } from 'vitest';
import { runMain } from './main.js';
import { captureOutput } from './output.js';

describe('joules doctor on this machine', () => {
  it('reports the worker environment and the energy path, and exits 0', { timeout: 120_000 }, async () => {
    const output = captureOutput();
    expect(await runMain(['doctor', '--json'], output)).toBe(0);
    const { checks } = JSON.parse(output.stdout.at(-1)!) as {
      checks: { name: string; status: string; detail: string }[];
    };
    const by = Object.fromEntries(checks.map((c) => [c.name, c]));
    for (const name of ['node', 'worker venv', 'torch', 'transformers', 'accelerate', 'joules-worker'])
      expect(by[name]?.status).toBe('ok');
    // Whatever the machine: the energy line says whether joules are measured or estimated.
    expect(by.energy?.detail).toMatch(/^(measured: |no energy counter here: CPU energy is ESTIMATED)/);
    if (by.GPUs?.status !== 'ok') expect(by.energy?.detail).toMatch(/ESTIMATED|RAPL/);
    // The bootstrap installs transformers serve in the worker's venv; the other servers are only named.
    expect(by.servers?.detail).toMatch(/^transformers serve: \/\S+\/transformers; vLLM: .*; llama\.cpp's server: /);
  });
});
