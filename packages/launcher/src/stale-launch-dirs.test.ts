import { spawn } from 'node:child_process';
import { access, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { experiment, tempDir, waitUntil } from './__fixtures__/helpers.js';
import { withPrivateConfigFile } from './private-config-file.js';
import { launchDirPrefix, processStartTicks, sweepStaleLaunchDirs } from './stale-launch-dirs.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const holder = fileURLToPath(new URL('./__fixtures__/hold-config-file.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('private config folders of dead owners', { timeout: 30_000 }, () => {
  it('a SIGKILLed launch leaves its folder; the next launch on the host sweeps it', async () => {
    const child = spawn(process.execPath, ['--conditions=@joules/source', '--import', 'tsx', holder], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect(await waitUntil(() => out.includes('\n'), 20_000)).toBe(true);
    const dir = path.dirname(out.trim());
    expect(path.basename(dir)).toMatch(new RegExp(`^joules-launch-${child.pid}\\.[0-9a-f]*\\.\\d+-`));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(await exists(dir)).toBe(true); // its `finally` never ran

    await withPrivateConfigFile(experiment(), async (file) => {
      expect(path.basename(path.dirname(file)).startsWith(launchDirPrefix())).toBe(true);
    });
    expect(await exists(dir)).toBe(false);
  });

  it('keeps folders of live owners, removes reused pids, reboots and day-old legacy folders', async () => {
    const tmp = await tempDir('joules-sweep-test-');
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid!;
      const ticks = processStartTicks(pid);
      expect(ticks).toMatch(/^\d+$/);
      const boot = launchDirPrefix().split('.')[1]!;
      const names = {
        live: `joules-launch-${pid}.${boot}.${ticks}-aaaaaa`,
        self: `${launchDirPrefix()}bbbbbb`,
        reused: `joules-launch-${pid}.${boot}.${Number(ticks) + 1}-cccccc`,
        rebooted: `joules-launch-${pid}.ffffffff.${ticks}-dddddd`,
        legacyOld: 'joules-launch-eeeeee',
        legacyNew: 'joules-launch-ffffff',
        other: 'joules-launch-test-gggggg',
      };
      for (const n of Object.values(names)) {
        await mkdir(path.join(tmp, n));
        await writeFile(path.join(tmp, n, 'experiment.json'), '{}');
      }
      const dayAgo = (Date.now() - 25 * 3600_000) / 1000;
      await utimes(path.join(tmp, names.legacyOld), dayAgo, dayAgo);
      const removed = await sweepStaleLaunchDirs(tmp);
      expect(removed.map((r) => path.basename(r)).sort()).toEqual(
        [names.legacyOld, names.rebooted, names.reused].sort(),
      );
      expect((await readdir(tmp)).sort()).toEqual([names.legacyNew, names.live, names.other, names.self].sort());
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a sweep of a missing folder removes nothing and does not throw', async () => {
    expect(await sweepStaleLaunchDirs(path.join(os.tmpdir(), 'joules-no-such-folder-here'))).toEqual([]);
  });
});
