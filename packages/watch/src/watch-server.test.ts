import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, parseEvents, replay } from './__fixtures__/event-stream.js';
import { makeResultsFolder } from './__fixtures__/results-folder.js';
import { parsePrometheusText, startWatch, WatchOptionsError, type WatchServer } from './index.js';

/** A raw GET: the path goes out exactly as written (no URL normalisation on the client side). */
function get(
  port: number,
  rawPath: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (c) => (body += c))
        .on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject).end();
  });
}

let tmp: string;
let results: string;
let watch: WatchServer;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'joules-watch-'));
  results = path.join(tmp, 'results');
  await mkdir(results);
  await writeFile(path.join(tmp, 'secret.txt'), 'TOP-SECRET\n');
  await symlink(path.join(tmp, 'secret.txt'), path.join(results, 'escape.txt'));
  await makeResultsFolder(results, { done: 4, failed: 2, pending: 3 });
  watch = await startWatch({ resultsDir: results, port: 0, pollMs: 50 });
});
afterAll(async () => {
  await watch?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('joules watch server', () => {
  it('serves the status and Prometheus metrics that match the folder', async () => {
    const status = JSON.parse((await get(watch.port, '/api/status')).body);
    expect(status.progress.total).toMatchObject({ total: 9, done: 4, failed: 2, pending: 3, running: 0 });
    expect(status.results).toHaveLength(4);
    expect(status.failures.map((f: { kind: string }) => f.kind).sort()).toEqual(['oom', 'other']);
    expect(status.chart.factor.field).toBe('batch_size');

    const res = await get(watch.port, '/metrics');
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(res.body);
    const value = (family: string, labels: Record<string, string>, name = family) =>
      families
        .get(family)!
        .samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('joules_experiments', { suite: 'demo', status: 'done' })).toBe(4);
    expect(value('joules_experiments', { suite: 'demo', status: 'failed' })).toBe(2);
    expect(value('joules_experiments', { suite: 'demo', status: 'pending' })).toBe(3);
    expect(value('joules_energy_joules_total', { suite: 'demo' })).toBe(10 + 20 + 30 + 40);
    expect(value('joules_failures_total', { kind: 'oom' })).toBe(1);
    expect(families.get('joules_experiment_duration_seconds')!.type).toBe('histogram');
    expect(
      value('joules_experiment_duration_seconds', { suite: 'demo' }, 'joules_experiment_duration_seconds_count'),
    ).toBe(4);
    expect(families.get('joules_power_watts')!.type).toBe('gauge');
  });

  it('serves files of the results folder, and nothing outside it', async () => {
    const status = JSON.parse((await get(watch.port, '/api/status')).body);
    const id = status.failures[0].experimentId;
    const ok = await get(watch.port, `/files/logs/${id}.log`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(`log of ${id}\n`);
    const csv = await get(watch.port, '/files/text_generation_results.csv');
    expect(csv.type).toMatch(/^text\/plain/); // data, never rendered as HTML
    for (const attempt of [
      '/files/../secret.txt',
      '/files/logs/../../secret.txt',
      '/files/%2e%2e/secret.txt',
      '/files/%2E%2E/secret.txt',
      '/files/.%2e/secret.txt',
      '/files/%2e%2e%2fsecret.txt',
      '/files/..%2Fsecret.txt',
      '/files/..%5csecret.txt',
      `/files/${encodeURIComponent(path.join(tmp, 'secret.txt'))}`,
      `/files/${path.join(tmp, 'secret.txt')}`,
      `/files//${tmp}/secret.txt`,
      '/files/escape.txt',
      '/files/%252e%252e/secret.txt',
      '/files/%zz',
      '/files/',
      '/files/logs',
      '/../secret.txt',
      '/files/logs%00.log',
    ]) {
      const res = await get(watch.port, attempt);
      expect(res.status, attempt).toBe(404);
      expect(res.body, attempt).not.toContain('TOP-SECRET');
    }
  });

  it('is read-only and answers loopback names only when it has no token', async () => {
    expect((await get(watch.port, '/api/status', {}, 'POST')).status).toBe(405);
    expect((await get(watch.port, '/api/status', {}, 'DELETE')).status).toBe(405);
    expect((await get(watch.port, '/api/status', { host: 'evil.example:9465' })).status).toBe(403);
    expect((await get(watch.port, '/api/status', { host: `localhost:${watch.port}` })).status).toBe(200);
    expect((await get(watch.port, '/nope')).status).toBe(404);
  });

  it('refuses another host without a token, and a bad port', async () => {
    await expect(startWatch({ resultsDir: results, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'WATCH_TOKEN_REQUIRED',
    });
    await expect(startWatch({ resultsDir: results, host: '::', port: 0 })).rejects.toBeInstanceOf(WatchOptionsError);
    await expect(startWatch({ resultsDir: results, port: 70000 })).rejects.toMatchObject({ code: 'WATCH_BAD_PORT' });
  });

  it('checks the token on every request when it has one', async () => {
    const token = 's3cret-token-value';
    const guarded = await startWatch({ resultsDir: results, host: '0.0.0.0', port: 0, token });
    try {
      for (const p of ['/', '/api/status', '/metrics', '/events', '/files/text_generation_results.csv']) {
        expect((await get(guarded.port, p)).status, p).toBe(401);
        expect((await get(guarded.port, p, { authorization: 'Bearer s3cret-token-valuf' })).status, p).toBe(401);
        expect((await get(guarded.port, `${p}?token=s3cret`)).status, p).toBe(401);
      }
      expect((await get(guarded.port, '/api/status', { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await get(guarded.port, `/metrics?token=${token}`)).status).toBe(200);
      // with a token, the Host name does not matter (it is meant for other machines)
      expect((await get(guarded.port, `/api/status?token=${token}`, { host: 'gpu-node-7:9465' })).status).toBe(200);
      expect((await get(guarded.port, `/files/../secret.txt?token=${token}`)).status).toBe(404);
    } finally {
      await guarded.close();
    }
  });

  it('shows live stages and power from runner events', async () => {
    const listed = JSON.parse((await get(watch.port, '/api/experiments?status=pending')).body);
    expect(listed.total).toBe(3);
    const pending = listed.items[0] as { key: string };
    watch.feed({ type: 'experiment-started', key: pending.key, experimentId: '000099', attempt: 1 });
    watch.feed({ type: 'experiment-stage', key: pending.key, experimentId: '000099', rank: 0, stage: 'measuring' });
    watch.feed({
      type: 'experiment-power',
      key: pending.key,
      experimentId: '000099',
      rank: 0,
      host: 'h1',
      device: 'h1/gpu/GPU-1',
      watts: 212.5,
      time: 1,
    });
    const status = await watch.status();
    const running = status.running.find((e) => e.key === pending.key)!;
    expect(running).toMatchObject({
      status: 'running',
      stage: 'measuring',
      power: [{ device: 'h1/gpu/GPU-1', watts: 212.5 }],
    });
    const metrics = parsePrometheusText((await get(watch.port, '/metrics')).body);
    expect(metrics.get('joules_power_watts')!.samples).toEqual([
      { name: 'joules_power_watts', labels: { host: 'h1', device: 'h1/gpu/GPU-1' }, value: 212.5 },
    ]);
    watch.feed({ type: 'experiment-interrupted', key: pending.key, experimentId: '000099', logFile: '' });
    expect((await watch.status()).power).toEqual([]);
  });

  it('sends the final picture to the pages before it closes', async () => {
    const w = await startWatch({ resultsDir: results, port: 0, throttleMs: 60_000 });
    const client = listen(w.port);
    while (w.clients === 0) await new Promise((r) => setTimeout(r, 10));
    w.feed({ type: 'suite-planned', suite: 'demo', total: 9, toRun: 3, skipped: 6, resultsDir: results });
    w.feed({ type: 'suite-finished', done: 4, failed: 2, skipped: 0, interrupted: 0, energyJ: 100, seconds: 1 });
    await w.close(); // the throttled broadcast has not run yet: close sends it
    await client.ended;
    const last = replay(parseEvents(client.text()));
    expect(last.suite).toMatchObject({ name: 'demo', finished: { done: 4, failed: 2 } });
  });

  it('drops an event-stream client that stops reading, and feeding never waits for it', async () => {
    const folder = path.join(tmp, 'big');
    await mkdir(folder);
    const { keys } = await makeResultsFolder(folder, { done: 0, failed: 0, pending: 3 });
    const w = await startWatch({ resultsDir: folder, port: 0, throttleMs: 0, maxBufferedBytes: 64 * 1024 });
    try {
      const socket = connect(w.port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${w.port}\r\n\r\n`);
      socket.pause(); // never reads: the kernel buffers fill, then the server's
      const key = keys[0]!;
      while (w.clients === 0) await new Promise((r) => setTimeout(r, 10));
      // Each update sends the power readings whole: ~200 KB with these long host names.
      const host = 'h'.repeat(20_000);
      for (let i = 0; i < 400 && w.clients > 0; i++) {
        w.feed({ type: 'experiment-started', key, experimentId: 'x', attempt: i });
        for (let d = 0; d < 10; d++)
          w.feed({
            type: 'experiment-power',
            key,
            experimentId: 'x',
            rank: 0,
            host,
            device: `gpu${d}`,
            watts: i,
            time: i,
          });
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(w.clients).toBe(0);
      const metrics = parsePrometheusText((await get(w.port, '/metrics')).body);
      expect(metrics.get('joules_watch_dropped_clients_total')!.samples[0]!.value).toBe(1);
      socket.destroy();
    } finally {
      await w.close();
    }
  });
});
