import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, FAULT_SERVER, stillAlive } from '@joules/test-utils';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCH_MARKER } from '../process-tree.js';
import { GUARD_SPEC_ENV, type GuardEvent, type GuardSpec, guardArgs } from './guard-protocol.js';

// The guard run for real (server-guard.ts, through tsx from src/), guarding fixture servers.
const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'joules-guard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pidsIn = (log: string) =>
  [...readFileSync(log, 'utf8').matchAll(/^(?:pid|child)=(\d+)$/gm)].map((m) => Number(m[1]));

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The spec and environment of a guard for `argv`, and where to look at what it did. */
function guarded(name: string, argv: string[], graceMs = 1000) {
  const logFile = path.join(dir, `${name}.log`);
  const spec: GuardSpec = { argv, env: {}, logFile, graceMs, launchId: `guard-test-${name}` };
  const env = { [GUARD_SPEC_ENV]: JSON.stringify(spec), [LAUNCH_MARKER]: spec.launchId };
  return { logFile, env, log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

/** Run the guard as start-server does (stdin a pipe), its events collected as they come. */
function runGuard(name: string, argv: string[], graceMs?: number) {
  const g = guarded(name, argv, graceMs);
  const guard = execa(process.execPath, guardArgs(), { env: g.env, buffer: false, reject: false });
  let out = '';
  guard.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const events = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as GuardEvent);
  return { ...g, guard, events };
}

const fault = (mode: string, extra: string[] = []) => [
  process.execPath,
  FAULT_SERVER,
  '--port',
  '0',
  '--mode',
  mode,
  ...extra,
];

describe('the server guard', () => {
  it('stops the server tree when the process that started it is SIGKILLed (its stdin closes)', async () => {
    const g = guarded('orphan', fault('ok', ['--child']));
    const parent = execa(process.execPath, [fixture('guard-parent.mjs'), ...guardArgs()], {
      env: g.env,
      stdin: 'ignore',
      buffer: false,
      reject: false,
    });
    let out = '';
    parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => /"event":"spawned"/.test(out) && /^listening on \d+$/m.test(g.log()));
    const pids = pidsIn(g.logFile);
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    parent.kill('SIGKILL');
    await parent;
    expect(await stillAlive(pids, 8000)).toEqual([]);
  });

  it('on SIGTERM: SIGTERM to the group and to marked processes outside it, SIGKILL after graceMs, exit 0', async () => {
    const g = runGuard('stubborn', [process.execPath, fixture('stubborn-server.mjs')], 500);
    await until(() => /^ready$/m.test(g.log()));
    const pids = pidsIn(g.logFile);
    expect(pids).toHaveLength(2);
    const stopped = Date.now();
    g.guard.kill('SIGTERM');
    const result = await g.guard;
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(450);
    expect(result.exitCode).toBe(0);
    expect(await stillAlive(pids, 5000)).toEqual([]);
    expect(g.events()).toEqual([{ event: 'spawned', pid: pids[0] }]);
  });

  it('a server that exits on its own: its exit reported, the guard exits with its code', async () => {
    const g = runGuard('early', fault('exit-early'));
    const result = await g.guard;
    expect(result.exitCode).toBe(3);
    expect(g.events()).toEqual([
      { event: 'spawned', pid: pidsIn(g.logFile)[0] },
      { event: 'exit', code: 3, signal: null },
    ]);
    expect(g.log()).toContain('boom: cannot load the model');
  });

  it('a command that cannot start: spawn-error with its code, exit 127', async () => {
    const g = runGuard('missing', ['no-such-server-binary-xyz', '--port', '0']);
    const result = await g.guard;
    expect(result.exitCode).toBe(127);
    expect(g.events()).toEqual([
      { event: 'spawn-error', message: 'spawn no-such-server-binary-xyz ENOENT', code: 'ENOENT' },
    ]);
  });
});
