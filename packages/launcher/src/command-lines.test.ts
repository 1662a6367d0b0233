import { parseExperiment } from '@joules/config';
import { describe, expect, it } from 'vitest';
import { accelerateCommand, formatCommandLine, pythonCommand } from './command-lines.js';

const exp = (patch: Record<string, unknown>) =>
  parseExperiment({ config_name: 'x', model_name: 'm/m', ...patch }).config!;

describe('accelerateCommand', () => {
  it('4 GPUs in bf16: --multi_gpu, --gpu_ids, --mixed_precision bf16, no CPU override', () => {
    const cmd = accelerateCommand(
      'accelerate',
      exp({ num_processes: 4, gpu_ids: [4, 5, 6, 7], precision: 'bf16' }),
      '/c.json',
      '/out',
      29600,
    );
    expect(cmd.args).toEqual([
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
      '29600',
      '-m',
      'joules_worker',
      '--config',
      '/c.json',
      '--output-dir',
      '/out',
    ]);
    expect(cmd.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '4,5,6,7' });
  });

  it('one CPU process: --cpu, never --multi_gpu', () => {
    const cmd = accelerateCommand('accelerate', exp({}), '/c.json', '/out', 1234);
    expect(cmd.args.slice(0, 4)).toEqual(['launch', '--cpu', '--num_processes', '1']);
    expect(cmd.args).not.toContain('--multi_gpu');
    expect(cmd.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', ACCELERATE_USE_CPU: 'true' });
  });

  it('one GPU in fp16', () => {
    const cmd = accelerateCommand('accelerate', exp({ gpu_ids: [3], precision: 'fp16' }), '/c.json', '/out', 1);
    expect(cmd.args).toContain('--gpu_ids');
    expect(cmd.args[cmd.args.indexOf('--gpu_ids') + 1]).toBe('3');
    expect(cmd.args[cmd.args.indexOf('--mixed_precision') + 1]).toBe('fp16');
    expect(cmd.args).not.toContain('--cpu');
  });

  it('2 of 3 listed GPUs: only the first num_processes are pinned', () => {
    const cmd = accelerateCommand('accelerate', exp({ num_processes: 2, gpu_ids: [5, 1, 3] }), '/c.json', '/out', 1);
    expect(cmd.args[cmd.args.indexOf('--gpu_ids') + 1]).toBe('5,1');
    expect(cmd.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '5,1' });
  });
});

describe('accelerateCommand on several machines', () => {
  const machines = (rank: number) => ({
    num_machines: 2,
    machine_rank: rank,
    main_process_ip: '10.0.0.7',
    main_process_port: 29555,
  });

  it("CPU, machine 1 of 2: the whole world, this rank, machine 0's address and the configured port", () => {
    const cmd = accelerateCommand(
      'accelerate',
      exp({ num_processes: 4, launch: { machines: machines(1) } }),
      '/c.json',
      '/out',
      40001,
    );
    expect(cmd.args).toEqual([
      'launch',
      '--multi_gpu',
      '--num_processes',
      '4',
      '--num_machines',
      '2',
      '--machine_rank',
      '1',
      '--main_process_ip',
      '10.0.0.7',
      '--mixed_precision',
      'no',
      '--dynamo_backend',
      'no',
      '--main_process_port',
      '29555',
      '-m',
      'joules_worker',
      '--config',
      '/c.json',
      '--output-dir',
      '/out',
    ]);
    expect(cmd.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', ACCELERATE_USE_CPU: 'true' });
  });

  it("GPUs: --gpu_ids lists this machine's share only", () => {
    const cmd = accelerateCommand(
      'accelerate',
      exp({ num_processes: 4, gpu_ids: [2, 3, 5], precision: 'bf16', launch: { machines: machines(0) } }),
      '/c.json',
      '/out',
      1,
    );
    expect(cmd.args[cmd.args.indexOf('--gpu_ids') + 1]).toBe('2,3');
    expect(cmd.args[cmd.args.indexOf('--machine_rank') + 1]).toBe('0');
    expect(cmd.args[cmd.args.indexOf('--num_processes') + 1]).toBe('4');
    expect(cmd.env).toEqual({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '2,3' });
  });

  it('one process per machine still joins one world (--multi_gpu)', () => {
    const cmd = accelerateCommand(
      'accelerate',
      exp({ num_processes: 2, launch: { machines: machines(1) } }),
      '/c.json',
      '/out',
      1,
    );
    expect(cmd.args.slice(0, 8)).toEqual([
      'launch',
      '--multi_gpu',
      '--num_processes',
      '2',
      '--num_machines',
      '2',
      '--machine_rank',
      '1',
    ]);
  });

  it("refuses a world without machine 0's address (an experiment that skipped validation)", () => {
    const e = exp({ num_processes: 2 });
    const broken = { ...e, launch: { ...e.launch, machines: { ...e.launch.machines, num_machines: 2 } } };
    expect(() => accelerateCommand('accelerate', broken, '/c.json', '/out', 1)).toThrow(
      /^launch\.machines: main_process_ip and main_process_port are required/,
    );
  });
});

describe('pythonCommand', () => {
  it('one process on the first GPU, no accelerate flags', () => {
    const cmd = pythonCommand('/venv/bin/python', exp({ gpu_ids: [6] }), '/c.json', '/out');
    expect(cmd).toEqual({
      file: '/venv/bin/python',
      args: ['-m', 'joules_worker', '--config', '/c.json', '--output-dir', '/out'],
      env: { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: '6' },
    });
  });
});

describe('formatCommandLine', () => {
  it('puts the environment first and quotes only what needs it', () => {
    expect(
      formatCommandLine({
        file: '/bin/acc',
        args: ['launch', '--x', "it's here", 'a b', '<free port>'],
        env: { A: '1,2', B: 'x y' },
      }),
    ).toBe(`A=1,2 B='x y' /bin/acc launch --x 'it'\\''s here' 'a b' '<free port>'`);
  });
});
