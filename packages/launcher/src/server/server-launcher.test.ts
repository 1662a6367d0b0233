import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FAULT_SERVER, processesWithEnv } from '@joules/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { job } from '../__fixtures__/helpers.js';
import type { Launcher, LaunchJob, LaunchOutcome } from '../launcher.js';
import { withPathPrefix } from './server-argv.js';
import { closeServers, ServerLauncher, serverKey } from './server-launcher.js';

// ServerLauncher with the fault server and a worker that only looks at the server: what the started
// server's environment holds (read from /proc), and when a server is shared.
afterAll(closeServers);

const TAG = 'JOULES_SERVER_ENV_TEST';
const command = [process.execPath, FAULT_SERVER, '--port', '{port}', '--mode', 'ok'];
const servingJob = (env: Record<string, string>) =>
  job('success', {
    engine: 'server',
    server: { command, env },
    load: { pattern: 'closed_loop', concurrency: 1, num_requests: 1 },
  });

/** A worker that records, while the server runs, its pids and the PATH of each. */
class Probe implements Launcher {
  readonly name = 'probe';
  seen: { url: string; pids: number[]; paths: string[] }[] = [];
  async launch(j: LaunchJob): Promise<LaunchOutcome> {
    const pids = await processesWithEnv(TAG, j.experiment.server.env[TAG]!);
    const paths = await Promise.all(
      pids.map(async (p) => {
        const env = (await readFile(`/proc/${p}/environ`, 'latin1')).split('\0');
        return env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
      }),
    );
    this.seen.push({ url: j.experiment.server.url!, pids, paths });
    return { status: 'succeeded', rankFiles: [], exitCode: 0, durationMs: 0, command: [] };
  }
}

describe('ServerLauncher: server.env', { timeout: 60_000 }, () => {
  it('reaches the started server, over the inherited environment, the venv bin first on PATH', async () => {
    const probe = new Probe();
    const launcher = new ServerLauncher(probe, { pathPrefix: '/venv/bin', graceMs: 1000 });
    const a = await servingJob({ [TAG]: 'a' });
    expect((await launcher.launch(a)).status).toBe('succeeded');
    const again = await servingJob({ [TAG]: 'a' });
    expect((await launcher.launch(again)).status).toBe('succeeded');
    const b = await servingJob({ [TAG]: 'b', PATH: '/own/bin' });
    expect((await launcher.launch(b)).status).toBe('succeeded');
    await launcher.close();
    const [first, second, third] = probe.seen;
    expect(first!.pids).toHaveLength(1); // the server, with the tag: server.env reached it
    expect(first!.paths[0]).toBe(`/venv/bin${path.delimiter}${process.env.PATH}`);
    expect(second!.url).toBe(first!.url); // the same environment: one server for both
    expect(third!.url).not.toBe(first!.url); // another environment: another server
    expect(third!.paths[0]).toBe(`/venv/bin${path.delimiter}/own/bin`);
    expect(await processesWithEnv(TAG, 'b')).toEqual([]);
  });

  it('is part of the server key; PATH of server.env replaces the inherited one', async () => {
    const [a, b] = await Promise.all([servingJob({ X: '1' }), servingJob({ X: '2' })]);
    expect(serverKey(a.experiment)).not.toBe(serverKey(b.experiment));
    expect(withPathPrefix({ X: '1' }, undefined)).toEqual({ X: '1' });
    expect(withPathPrefix({ X: '1' }, '/v', '/usr/bin')).toEqual({ X: '1', PATH: `/v${path.delimiter}/usr/bin` });
    expect(withPathPrefix({ PATH: '/p' }, '/v', '/usr/bin')).toEqual({ PATH: `/v${path.delimiter}/p` });
  });
});
