import { readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fake, job, tempDir } from './__fixtures__/helpers.js';
import { AccelerateLauncher } from './accelerate-launcher.js';
import { runBatch } from './run-batch.js';

// A recording stub named `accelerate` on a temp PATH: the launcher runs the bare name, as with a
// venv on PATH, and the stub writes down the argv, environment and config it was given.
let stubPath = '';
beforeAll(async () => {
  const bin = await tempDir('joules-stub-bin-');
  await symlink(fake, path.join(bin, 'accelerate'));
  stubPath = `${bin}${path.delimiter}${process.env.PATH}`;
});
const launcher = new AccelerateLauncher({ accelerateBin: 'accelerate' });
const fourGpus = { num_processes: 4, gpu_ids: [4, 5, 6, 7], precision: 'bf16' };

describe('`accelerate` stub on PATH', { timeout: 30_000 }, () => {
  it('4 GPUs in bf16: the exact argv and environment', async () => {
    const j = await job('success', fourGpus, { env: { PATH: stubPath, EXTRA: 'kept' } });
    const outcome = await launcher.launch(j);
    expect(outcome.status).toBe('succeeded');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    const configPath = seen.argv[seen.argv.indexOf('--config') + 1];
    const port = seen.argv[seen.argv.indexOf('--main_process_port') + 1];
    expect(seen.argv).toEqual([
      'launch',
      '--multi_gpu',
      '--num_processes',
      '4',
      '--num_machines',
      '1',
      '--gpu_ids',
      '4,5,6,7',
      '--mixed_precision',
      'bf16',
      '--dynamo_backend',
      'no',
      '--main_process_port',
      port,
      '-m',
      'joules_worker',
      '--config',
      configPath,
      '--output-dir',
      j.outputDir,
    ]);
    expect(Number(port)).toBeGreaterThan(1023);
    expect(configPath).toMatch(/joules-launch-[^/]+\/experiment\.json$/);
    expect(seen.env).toEqual({
      ACCELERATE_USE_CPU: null,
      CUDA_VISIBLE_DEVICES: '4,5,6,7',
      EXTRA: 'kept',
      JOULES_LAUNCH_ID: expect.any(String),
    });
    expect(seen.config).toMatchObject({ num_processes: 4, gpu_ids: [4, 5, 6, 7], precision: 'bf16' });
    expect(outcome.command.slice(0, 2)).toEqual(['accelerate', 'launch']);
  });

  it('in a batch over GPUs [0..7] the 4-GPU job runs on the GPUs it was given, everywhere', async () => {
    const blocker = await job(
      'record',
      { num_processes: 2, gpu_ids: [0, 1] },
      { id: 'first', env: { PATH: stubPath, FAKE_RECORD_DIR: await tempDir(), FAKE_SLEEP_MS: '300' } },
    );
    const j = await job('success', fourGpus, { id: 'second', env: { PATH: stubPath } });
    const [, result] = await runBatch([blocker, j], { launcher, gpus: [0, 1, 2, 3, 4, 5, 6, 7], maxParallel: 2 });
    expect(result!.outcome.status).toBe('succeeded');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    const ids = seen.argv[seen.argv.indexOf('--gpu_ids') + 1];
    expect(ids).toBe('2,3,4,5'); // 0 and 1 were held by the first job
    expect(seen.env.CUDA_VISIBLE_DEVICES).toBe(ids);
    expect(seen.config.gpu_ids).toEqual([2, 3, 4, 5]);
    expect(result!.experiment.gpu_ids).toEqual([2, 3, 4, 5]);
  });
});
