import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { readCsvRecords } from '@joules/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, parseEvents } from './__fixtures__/event-stream.js';
import { MAX_CHART_GROUPS, RECENT, startWatch, type WatchServer, type WatchStatus } from './index.js';

// The original's full study: 1,056 configurations × 4 models × 5 cycles = 21,120 experiments.
let tmp = '';
let watch: WatchServer;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-scale-'));
  await writeStudyFolder(tmp, { experiments: 21_120, failures: 5 });
  watch = await startWatch({ resultsDir: tmp, port: 0 });
});
afterAll(async () => {
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});
const get = async (p: string) => {
  const res = await fetch(`${watch.url}${p}`);
  const text = await res.text();
  return { bytes: Buffer.byteLength(text), json: JSON.parse(text) };
};

describe('the watch at 21,120 experiments (slow)', () => {
  it('/api/status is a bounded summary; the full lists are paged', async () => {
    const { bytes, json } = await get('api/status');
    const status = json as WatchStatus;
    expect(bytes).toBeLessThan(64 * 1024);
    expect(status.progress.total).toMatchObject({ total: 21_120, done: 21_115, failed: 5 });
    expect(status.progress.groups).toHaveLength(4);
    expect(status.counts).toEqual({ results: 21_115, failures: 5, badRows: 0 });
    expect(status.results).toHaveLength(RECENT);
    expect(status.chart.groups.length).toBeLessThanOrEqual(MAX_CHART_GROUPS);

    const page = (await get('api/experiments?offset=21000&limit=500')).json;
    expect(page).toMatchObject({ offset: 21_000, limit: 500, total: 21_120 });
    expect(page.items).toHaveLength(120);
    expect((await get('api/experiments?status=failed')).json.total).toBe(5);
    expect((await get('api/results?limit=3')).json).toMatchObject({ total: 21_115, items: [{}, {}, {}] });
    expect((await get('api/failures')).json.items).toHaveLength(5);
    expect((await fetch(`${watch.url}api/experiments?limit=x`)).status).toBe(400);
    expect((await fetch(`${watch.url}api/experiments?status=nope`)).status).toBe(400);

    const client = listen(watch.port);
    while (parseEvents(client.text()).length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(client.bytes()).toBeLessThan(64 * 1024);
    client.stop();
  });

  it("draws one mark per model and batch size, each the mean of the CSV's rows", async () => {
    const { chart } = (await get('api/status')).json as WatchStatus;
    expect(chart.factor).toEqual({ field: 'batch_size', type: 'quantitative' });
    expect(chart.per).toBe('value');
    expect(chart.groups).toHaveLength(4 * 8);
    const rows = await readCsvRecords(path.join(tmp, 'text_generation_results.csv'));
    for (const g of chart.groups) {
      const mine = rows.filter((r) => r.model_name!.endsWith(`/${g.model}`) && Number(r.batch_size) === g.x);
      const values = mine.map((r) => Number(r.energy_per_token_j));
      expect(g.n).toBe(mine.length);
      expect(g.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
      expect(g.min).toBe(Math.min(...values));
      expect(g.max).toBe(Math.max(...values));
    }
  });
});
