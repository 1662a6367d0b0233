import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, startWatch } from './index.js';

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-metrics-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** /metrics of a study folder written with these options. */
async function metricsOf(name: string, options: Parameters<typeof writeStudyFolder>[1]) {
  const dir = path.join(tmp, name);
  await writeStudyFolder(dir, options);
  const watch = await startWatch({ resultsDir: dir, port: 0 });
  try {
    const text = await (await fetch(`${watch.url}metrics`)).text();
    return { text, families: parsePrometheusText(text) };
  } finally {
    await watch.close();
  }
}
const sample = (families: ReturnType<typeof parsePrometheusText>, name: string, labels: Record<string, string>) =>
  [...families.values()]
    .flatMap((f) => f.samples)
    .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('/metrics', () => {
  it('stays the same size from 100 to 2,000 rows: one sample per suite, status, bucket and kind', async () => {
    const small = await metricsOf('small', { experiments: 100, failures: 2 });
    const large = await metricsOf('large', { experiments: 2000, failures: 2 });
    const shape = (f: typeof small.families) =>
      [...f.values()].flatMap((fam) => fam.samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`));
    expect(shape(large.families)).toEqual(shape(small.families));
    expect(Math.abs(large.text.length - small.text.length)).toBeLessThan(100); // only the digits of the counts grow
    expect(sample(large.families, 'joules_experiments', { suite: 'study', status: 'done' })).toBe(1998);
    expect(sample(large.families, 'joules_experiment_duration_seconds_count', { suite: 'study' })).toBe(1998);
  });

  it('counts the experiments of a folder without a journal (joules run results): rows done, final failures failed', async () => {
    const { families } = await metricsOf('runs', { experiments: 300, failures: 3, journal: false });
    expect(sample(families, 'joules_experiments', { suite: 'study', status: 'done' })).toBe(297);
    expect(sample(families, 'joules_experiments', { suite: '', status: 'failed' })).toBe(3);
    const total = families.get('joules_experiments')!.samples.reduce((n, s) => n + s.value, 0);
    expect(total).toBe(300);
    expect(sample(families, 'joules_failures_total', { kind: 'oom' })).toBe(3);
    expect(sample(families, 'joules_energy_joules_total', { suite: 'study' })).toBeGreaterThan(0);
  });
});
