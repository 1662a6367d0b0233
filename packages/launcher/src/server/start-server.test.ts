import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, FAULT_SERVER } from '@joules/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerError } from '../errors.js';
import { serverArgv } from './server-argv.js';
import { startServer } from './start-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'joules-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pidsIn = (log: string) =>
  [...readFileSync(log, 'utf8').matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) => Number(m[1]));
async function gone(pids: number[], ms = 8000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
const fault = (mode: string, extra: string[] = []) => [
  process.execPath,
  FAULT_SERVER,
  '--port',
  '{port}',
  '--mode',
  mode,
  ...extra,
];
const start = (name: string, command: string[], readyTimeoutMs = 20_000) =>
  startServer({
    command,
    model: '/m',
    host: '127.0.0.1',
    gpuIds: [],
    logFile: path.join(dir, `${name}-server.log`),
    readyTimeoutMs,
    graceMs: 2000,
    pollMs: 50,
  });

describe('serverArgv', () => {
  it('replaces the placeholders, inside arguments too', () => {
    expect(
      serverArgv(['srv', '{model}', '--port={port}', '--host', '{host}', '--gpus', '{gpu_ids}', '{other}'], {
        model: '/m',
        host: 'h',
        port: 9,
        gpuIds: [0, 2],
      }),
    ).toEqual(['srv', '/m', '--port=9', '--host', 'h', '--gpus', '0,2', '{other}']);
  });
});

describe('startServer', () => {
  it('starts on a free port, is healthy, and stop() removes its whole process tree', async () => {
    const s = await start('ok', fault('ok', ['--child']));
    const res = await fetch(`${s.url}/health`);
    expect(res.status).toBe(200);
    const pids = pidsIn(s.logFile);
    expect(pids).toHaveLength(2);
    expect(readFileSync(s.logFile, 'utf8')).toContain(`listening on ${s.port}`);
    await s.stop();
    expect(await gone(pids)).toBe(true);
    expect(s.alive()).toBe(false);
  });

  it('a command that does not exist: server_start_failed naming it', async () => {
    const err = await start('missing', ['no-such-server-binary-xyz', '--port', '{port}']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).code).toBe('server_start_failed');
    expect((err as ServerError).message).toMatch(/not found or not runnable: no-such-server-binary-xyz.*ENOENT/);
  });

  it('a server that exits before it is healthy: server_start_failed with the log tail', async () => {
    const err = (await start('early', fault('exit-early')).catch((e: unknown) => e)) as ServerError;
    expect(err.code).toBe('server_start_failed');
    expect(err.message).toMatch(/exited before it was healthy \(exit code 3\)/);
    expect(err.message).toContain('boom: cannot load the model');
  });

  it('no health before ready_timeout_s: server_start_failed, and the tree is gone', async () => {
    const log = path.join(dir, 'slow-server.log');
    const err = (await start('slow', fault('never-healthy', ['--child']), 1500).catch(
      (e: unknown) => e,
    )) as ServerError;
    expect(err.code).toBe('server_start_failed');
    expect(err.message).toMatch(/no health .* within ready_timeout_s 1\.5/);
    expect(await gone(pidsIn(log))).toBe(true);
  });

  it('reports a server that dies on its own through `exited`', async () => {
    const s = await start('crash', fault('crash-on-request'));
    await fetch(`${s.url}/v1/completions`, { method: 'POST', body: '{}' }).catch(() => undefined);
    expect(await s.exited).toEqual({ code: 139, signal: null });
    expect(s.alive()).toBe(false);
  });
});
