import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fake, job } from './__fixtures__/helpers.js';
import { AccelerateLauncher } from './accelerate-launcher.js';
import { DRY_RUN_CONFIG_PATH, dryRun } from './dry-run.js';
import { PythonLauncher } from './python-launcher.js';
import { SlurmLauncher } from './slurm/slurm-launcher.js';

describe('dryRun', { timeout: 30_000 }, () => {
  it('shows what would run, with placeholders for the config file and the port chosen at launch', async () => {
    const j = await job('success', { num_processes: 2 }, { env: { EXTRA: 'x' } });
    const d = dryRun(new AccelerateLauncher({ accelerateBin: '/venv/bin/accelerate' }), j);
    expect(d.file).toBe('/venv/bin/accelerate');
    expect(d.args).toEqual([
      'launch',
      '--multi_gpu',
      '--num_processes',
      '2',
      '--num_machines',
      '1',
      '--mixed_precision',
      'no',
      '--dynamo_backend',
      'no',
      '--main_process_port',
      '<free port>',
      '-m',
      'joules_worker',
      '--config',
      DRY_RUN_CONFIG_PATH,
      '--output-dir',
      j.outputDir,
    ]);
    expect(d.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', ACCELERATE_USE_CPU: 'true', ...j.env });
    expect(d.text).toContain(`/venv/bin/accelerate launch --multi_gpu --num_processes 2 `);
    expect(d.text).toContain(`--main_process_port '<free port>' -m joules_worker`);
  });

  it('engine "server": the server command line (server.env too) first, its port a placeholder, then the worker', async () => {
    const j = await job('success', {
      engine: 'server',
      gpu_ids: [2, 3],
      server: {
        command: ['vllm', 'serve', '{model}', '--port', '{port}', '--tensor-parallel-size', '2'],
        env: { VLLM_LOGGING_LEVEL: 'DEBUG' },
      },
      load: { pattern: 'closed_loop', concurrency: 4, num_requests: 8 },
    });
    const text = dryRun(new PythonLauncher({ pythonBin: '/venv/bin/python' }), j).text.split('\n');
    expect(text[0]).toBe(
      `server: CUDA_VISIBLE_DEVICES=2,3 CUDA_DEVICE_ORDER=PCI_BUS_ID VLLM_LOGGING_LEVEL=DEBUG vllm serve ${j.experiment.model_name} --port '<free port>' --tensor-parallel-size 2`,
    );
    expect(text[1]).toMatch(/^worker: .*\/venv\/bin\/python -m joules_worker --config /);
    const slurm = dryRun(
      new SlurmLauncher({ accelerateBin: '/venv/bin/accelerate', resources: { gpusPerNode: 2 } }),
      j,
    ).text.split('\n');
    expect(slurm[0]).toMatch(
      /^server: CUDA_VISIBLE_DEVICES='<the allocation'\\''s>' CUDA_DEVICE_ORDER=PCI_BUS_ID VLLM_LOGGING_LEVEL=DEBUG vllm /,
    );
    expect(slurm[1]).toMatch(/^worker: .*sbatch /);
  });

  it('is exactly what launch runs, given the same config path and port', async () => {
    const j = await job('success', { gpu_ids: [3] }, { port: 29_555 });
    const launcher = new AccelerateLauncher({ accelerateBin: fake });
    expect((await launcher.launch(j)).status).toBe('succeeded');
    const seen = JSON.parse(await readFile(path.join(j.dir, 'argv.json'), 'utf8'));
    const configPath = seen.argv[seen.argv.indexOf('--config') + 1];
    const d = dryRun(launcher, j, { configPath });
    expect(d.args).toEqual(seen.argv);
    expect(d.env.CUDA_VISIBLE_DEVICES).toBe(seen.env.CUDA_VISIBLE_DEVICES);
  });

  it('the python launcher: one command, no port', async () => {
    const j = await job('success', {});
    const d = dryRun(new PythonLauncher({ pythonBin: '/venv/bin/python' }), j, { configPath: '/c.json' });
    expect([d.file, ...d.args]).toEqual([
      '/venv/bin/python',
      '-m',
      'joules_worker',
      '--config',
      '/c.json',
      '--output-dir',
      j.outputDir,
    ]);
  });

  it('a launcher without a command cannot dry-run', async () => {
    const { experiment } = await job('x');
    const remote = {
      name: 'remote',
      launch: async () => ({ status: 'interrupted', message: '', durationMs: 0, command: [] }) as const,
    };
    expect(() => dryRun(remote, { experiment, outputDir: '/o', logFile: '/l' })).toThrow(
      expect.objectContaining({
        code: 'NO_COMMAND',
        message: 'launcher "remote" does not describe its command (no command method), so it cannot dry-run',
      }),
    );
  });
});
