import { parseExperiment } from '@joules/config';
import { describe, expect, it } from 'vitest';
import { localRanks, machinesWaitMs, rendezvousFile, worldProblem } from './rendezvous.js';

const exp = (rank: number, port = 29555) =>
  parseExperiment({
    config_name: 'x',
    model_name: 'm/m',
    num_processes: 4,
    launch: { machines: { num_machines: 2, machine_rank: rank, main_process_ip: '10.0.0.7', main_process_port: port } },
  }).config!;

describe('several machines', () => {
  it('every machine of one world names the same announcement file; another port, another file', () => {
    expect(rendezvousFile('/r', exp(1))).toBe(rendezvousFile('/r', exp(0)));
    expect(rendezvousFile('/r', exp(0))).toMatch(/^\/r\/\.joules\/machines\/[0-9a-f]{16}-29555\.json$/);
    expect(rendezvousFile('/r', exp(0, 29556))).not.toBe(rendezvousFile('/r', exp(0)));
  });

  it('ranks go machine by machine', () => {
    expect([localRanks(exp(0)), localRanks(exp(1))]).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('a world is ranks 0..n-1, each with world_size n', () => {
    const world = (sizes: number[]) => sizes.map((world_size, rank) => ({ rank, world_size }));
    expect(worldProblem(world([4, 4, 4, 4]), 4)).toBeUndefined();
    expect(worldProblem(world([4, 4, 4]), 4)).toBe('expected ranks 0..3 of one world, got 0, 1, 2');
    expect(
      worldProblem(
        [
          { rank: 0, world_size: 1 },
          { rank: 0, world_size: 1 },
        ],
        2,
      ),
    ).toBe('expected ranks 0..1 of one world, got 0, 0');
    expect(worldProblem(world([4, 4, 2, 4]), 4)).toBe(
      'rank 2 ran in a world of 2, not 4 (the machines did not form one world)',
    );
  });

  it('JOULES_MACHINES_WAIT_S sets the wait, 600 s by default', () => {
    expect([
      machinesWaitMs({}),
      machinesWaitMs({ JOULES_MACHINES_WAIT_S: '2' }),
      machinesWaitMs({ JOULES_MACHINES_WAIT_S: 'x' }),
    ]).toEqual([600_000, 2000, 600_000]);
  });
});
