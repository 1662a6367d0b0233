import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPid, liveProcess } from './__fixtures__/processes.js';
import { currentOwner, ownerAlive } from './owner.js';

const children: ReturnType<typeof liveProcess>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('ownerAlive', () => {
  it('knows this process, with its start time on Linux', () => {
    const me = currentOwner();
    expect(me).toMatchObject({ pid: process.pid, host: os.hostname() });
    if (process.platform === 'linux') expect(me.start).toMatch(/:\d+$/);
    expect(ownerAlive(me)).toBe(true);
  });

  it('tells a dead process from a live one on this host', async () => {
    const child = liveProcess();
    children.push(child);
    expect(ownerAlive({ pid: child.pid!, host: os.hostname() })).toBe(true);
    expect(ownerAlive({ pid: await deadPid(), host: os.hostname() })).toBe(false);
  });

  it.runIf(process.platform === 'linux')(
    'takes a live pid with another start time for a reused pid (dead owner)',
    () => {
      const child = liveProcess();
      children.push(child);
      expect(
        ownerAlive({ pid: child.pid!, host: os.hostname(), start: `${currentOwner().start!.split(':')[0]}:1` }),
      ).toBe(false);
    },
  );

  it('cannot tell for another host', () => {
    expect(ownerAlive({ pid: process.pid, host: `${os.hostname()}-elsewhere` })).toBeUndefined();
  });
});
