import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSample, type ResultRecord } from '@joules/metrics';
import { LOADS, SETTINGS, servingConfig, servingRow, servingRows, writeServingRows } from '@joules/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, parseEvents, replay } from './__fixtures__/event-stream.js';
import { makeResultsFolder } from './__fixtures__/results-folder.js';
import { startWatch, type WatchDelta, type WatchServer, type WatchStatus } from './index.js';
import type { ParsedResult } from './result-row.js';
import { MAX_SERVING_POINTS, ServingAggregates, type ServingPoint } from './serving-data.js';

// A serving sweep's folder: /api/status carries each configuration's figures (mean and 95 % CI over
// cycles), the saturation point and the Pareto front of each server setting, checked against a
// reference computed here from the raw rows; a new cycle is sent as the points it changed.
let tmp = '';
let watch: WatchServer;
const rows = servingRows();
const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-serving-'));
  await writeServingRows(tmp, rows);
  watch = await startWatch({ resultsDir: tmp, port: 0, pollMs: 50, throttleMs: 20 });
});
afterAll(async () => {
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});

const of = (seqs: number, c: number) => rows.filter((r) => r.config_name === servingConfig(seqs, c));
const sample = (rs: ResultRecord[], col: keyof ResultRecord, scale = 1) =>
  describeSample(rs.map((r) => (r[col] as number) * scale));
const near = (actual: number | null, expected: number | null) => {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! / expected! - 1)).toBeLessThan(1e-5);
};

/** Reference: per setting, the load of the highest mean throughput, and the loads no other load beats on both mean TTFT and mean J/request. */
function reference(seqs: number) {
  const means = LOADS.map((c) => ({
    c,
    tps: sample(of(seqs, c), 'serving_output_tokens_per_s').mean!,
    x: sample(of(seqs, c), 'serving_ttft_p90_s').mean!,
    y: sample(of(seqs, c), 'serving_energy_per_request_j').mean!,
  }));
  const saturation = means.reduce((a, b) => (b.tps > a.tps ? b : a)).c;
  const front = means
    .filter((p) => !means.some((q) => q !== p && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y)))
    .map((p) => p.c);
  return { saturation, front };
}

function checkAgainstRows(status: WatchStatus) {
  const serving = status.serving!;
  expect(serving).toMatchObject({ load: 'concurrency', omitted: 0 });
  expect(serving.points).toHaveLength(SETTINGS.length * LOADS.length);
  for (const seqs of SETTINGS) {
    const series = serving.points.filter((p) => p.series === `tiny-llama · server.max_num_seqs-${seqs}`);
    expect(series.map((p) => p.load).sort((a, b) => a! - b!)).toEqual(LOADS);
    for (const p of series) {
      const rs = of(seqs, p.load!);
      expect(p.n).toBe(rs.length);
      const tps = sample(rs, 'serving_output_tokens_per_s');
      const ttft = sample(rs, 'serving_ttft_p90_s', 1000);
      const epr = sample(rs, 'serving_energy_per_request_j');
      for (const [[mean, low, high], s] of [
        [[p.tps, p.tps_low, p.tps_high], tps],
        [[p.ttft, p.ttft_low, p.ttft_high], ttft],
        [[p.epr, p.epr_low, p.epr_high], epr],
      ] as const) {
        near(mean, s.mean);
        near(low, s.ci95_low);
        near(high, s.ci95_high);
      }
      near(p.tpot, sample(rs, 'serving_tpot_p90_s', 1000).mean);
    }
    const ref = reference(seqs);
    expect(series.filter((p) => p.saturation).map((p) => p.load)).toEqual([ref.saturation]);
    expect(ref.saturation).toBe(seqs); // the server's batch full
    expect(series.filter((p) => p.front).map((p) => p.load)).toEqual(ref.front);
  }
}

describe('the watch of a serving sweep', () => {
  it('/api/status carries the throughput–latency curve, the saturation point and the Pareto front', async () => {
    const status = await watch.status();
    expect(status.counts.results).toBe(rows.length);
    checkAgainstRows(status);
    // The transformers chart stays: J/token per configuration (batch size is 8 everywhere: not a factor).
    expect(status.chart.factor.field).toBe('config_name');
  });

  it('a new cycle is sent as the points it changed, and the page reaches the fresh status', async () => {
    const client = listen(watch.port);
    await until('the first status', () => parseEvents(client.text()).length >= 2);
    const added = servingRow(rows.length + 1, 16, 8, 4);
    rows.push(added);
    await writeServingRows(tmp, [added], true);
    const deltas = () =>
      parseEvents(client.text())
        .filter((e) => e.event === 'delta')
        .map((e) => e.data as WatchDelta);
    await until('the delta', () => deltas().some((d) => d.serving));
    const sent = deltas().flatMap((d) => (d.serving ? [d.serving] : []));
    expect(sent.every((s) => s.replace === false)).toBe(true);
    const points = sent.flatMap((s) => s.points);
    expect(points.map((p) => p.config)).toContain(servingConfig(16, 8));
    expect(points.length).toBeLessThan(LOADS.length); // at most its own series' points, not all 12
    const fresh = await watch.status();
    checkAgainstRows(fresh);
    const sorted = (s: WatchStatus) => ({
      ...s,
      generatedAt: '',
      serving: s.serving && { ...s.serving, points: [...s.serving.points].sort((a, b) => a.key.localeCompare(b.key)) },
    });
    expect(sorted(replay(parseEvents(client.text())))).toEqual(sorted(fresh));
    client.stop();
  });

  it('a transformers folder has no serving data', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-plain-'));
    try {
      await makeResultsFolder(dir, { done: 3, failed: 0, pending: 0 });
      const plain = await startWatch({ resultsDir: dir, port: 0 });
      expect((await plain.status()).serving).toBeNull();
      await plain.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ServingAggregates', () => {
  it('past MAX_SERVING_POINTS, whole series of lowest J per request', () => {
    const agg = new ServingAggregates();
    const settings = 30;
    for (let s = 0; s < settings; s++)
      for (const c of LOADS) {
        const r = servingRow(0, 4, c, 1);
        agg.add({
          id: `${s}-${c}`,
          suite: null,
          model: 'org/m',
          config: `server.setting-${s}__load.concurrency-${c}`,
          cycle: 1,
          perToken: null,
          totalJ: null,
          seconds: null,
          factors: [],
          serving: {
            load: c,
            loadKind: 'concurrency',
            tps: r.serving_output_tokens_per_s as number,
            ttft: r.serving_ttft_p90_s as number,
            tpot: r.serving_tpot_p90_s as number,
            epr: (r.serving_energy_per_request_j as number) + s, // setting s costs s J more
          },
        } satisfies ParsedResult);
      }
    const data = agg.data()!;
    const kept = MAX_SERVING_POINTS / LOADS.length;
    expect(data.points).toHaveLength(MAX_SERVING_POINTS);
    expect(data.omitted).toBe((settings - kept) * LOADS.length);
    const series = new Set(data.points.map((p: ServingPoint) => p.series));
    expect([...series].sort()).toEqual(Array.from({ length: kept }, (_, s) => `m · server.setting-${s}`).sort());
  });
});
