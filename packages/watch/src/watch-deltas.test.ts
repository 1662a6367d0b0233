import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStudyFolder } from '@joules/test-utils/study-folder';
import { recordFailure } from '@joules/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendExperiment } from './__fixtures__/append-experiment.js';
import { listen, parseEvents, replay } from './__fixtures__/event-stream.js';
import { startWatch, type WatchDelta, type WatchServer, type WatchStatus } from './index.js';

let tmp = '';
let watch: WatchServer;
const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
};
const deltas = (c: ReturnType<typeof listen>) =>
  parseEvents(c.text())
    .filter((e) => e.event === 'delta')
    .map((e) => e.data as WatchDelta);
/** The status without what differs between two reads of the same state. */
const comparable = (s: WatchStatus) => ({ ...s, generatedAt: '' });

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-deltas-'));
  await writeStudyFolder(tmp, { experiments: 2000, failures: 3 });
  watch = await startWatch({ resultsDir: tmp, port: 0, pollMs: 50, throttleMs: 20 });
});
afterAll(async () => {
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('the event stream sends deltas', () => {
  it('a new experiment costs its own row, not the whole status, to every client', async () => {
    const clients = [listen(watch.port), listen(watch.port)];
    await until('the first status', () => clients.every((c) => parseEvents(c.text()).length >= 2));
    const first = clients.map((c) => c.bytes());
    const status = parseEvents(clients[0]!.text())[0]!;
    expect(status.event).toBe('status');

    const key = await appendExperiment(tmp, { id: '009001', model: 'org/mistral-7b', config: 'cfg-new', cycle: 1 });
    await until('the delta', () => clients.every((c) => deltas(c).some((d) => d.results?.length)));
    await new Promise((r) => setTimeout(r, 300)); // anything else it would send
    for (const [i, c] of clients.entries()) {
      const after = parseEvents(c.text()).slice(2);
      expect(after.map((e) => e.event)).toEqual(after.map(() => 'delta'));
      expect(c.bytes() - first[i]!).toBeLessThan(8 * 1024); // the whole status is ~20 KB here
      const sent = deltas(c);
      expect(sent.flatMap((d) => d.results ?? []).map((r) => r.experiment_id)).toEqual(['009001']);
      expect(sent.flatMap((d) => d.experiments ?? []).map((e) => [e.key, e.status])).toEqual([[key, 'done']]);
      expect(sent.flatMap((d) => d.failures ?? [])).toEqual([]);
      // Applied as the page does, the deltas give what a fresh /api/status says.
      expect(comparable(replay(parseEvents(c.text())))).toEqual(comparable(await watch.status()));
    }
    const fresh = await watch.status();
    expect(fresh.progress.total).toMatchObject({ total: 2001, done: 1998, failed: 3 });
    expect(fresh.results.at(-1)).toMatchObject({
      experiment_id: '009001',
      config_name: 'cfg-new',
      model: 'mistral-7b',
    });
    for (const c of clients) c.stop();
  });

  it('a live run, its stage and a new failure are sent as such', async () => {
    const client = listen(watch.port);
    await until('the first status', () => parseEvents(client.text()).length >= 2);
    const key = 'org/phi-3-mini::study::cfg-live::1';
    watch.feed({ type: 'experiment-started', key, experimentId: '009100', attempt: 1 });
    watch.feed({ type: 'experiment-stage', key, experimentId: '009100', rank: 0, stage: 'measuring' });
    await until('the stage', () => deltas(client).some((d) => d.running?.some((r) => r.stage === 'measuring')));
    await recordFailure(tmp, {
      experimentId: '009100',
      configName: 'cfg-live',
      modelName: 'org/phi-3-mini',
      attempt: 1,
      kind: 'oom',
      message: 'out of memory',
      config: {},
    });
    watch.feed({
      type: 'experiment-failed',
      key,
      experimentId: '009100',
      kind: 'oom',
      message: 'oom',
      attempts: 1,
      logFile: '',
    });
    await until('the failure', () => deltas(client).some((d) => d.failures?.length));
    await until('the end of the run', () => deltas(client).some((d) => d.running?.length === 0));
    const sent = deltas(client);
    expect(sent.flatMap((d) => d.running ?? []).find((r) => r.stage)).toMatchObject({
      key,
      stage: 'measuring',
      status: 'running',
    });
    expect(sent.flatMap((d) => d.failures ?? []).map((f) => [f.experimentId, f.kind])).toEqual([['009100', 'oom']]);
    expect(sent.flatMap((d) => d.results ?? [])).toEqual([]);
    const status = await watch.status();
    expect(status.failures.at(-1)).toMatchObject({ experimentId: '009100' });
    expect(status.counts.failures).toBe(4);
    expect(comparable(replay(parseEvents(client.text())))).toEqual(comparable(status));
    client.stop();
  });
});
