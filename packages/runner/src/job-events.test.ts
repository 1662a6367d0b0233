import { parseWorkerEventLine } from '@joules/launcher';
import { describe, expect, it } from 'vitest';
import { fromJobEvent } from './job-events.js';

describe('worker power events', () => {
  it('a worker power line becomes an experiment-power runner event', () => {
    const line =
      '{"v":1,"event":"power","rank":1,"time":1767225600.5,"host":"node-3","device":"node-3/gpu/GPU-abc","watts":312.25}';
    const event = parseWorkerEventLine(line);
    expect(event).toMatchObject({ event: 'power', watts: 312.25 });
    expect(fromJobEvent({ type: 'worker', jobId: 'j', attempt: 1, event: event! }, 'm::s::c::1', '000007')).toEqual({
      type: 'experiment-power',
      key: 'm::s::c::1',
      experimentId: '000007',
      rank: 1,
      host: 'node-3',
      device: 'node-3/gpu/GPU-abc',
      watts: 312.25,
      time: 1767225600.5,
    });
  });

  it('a malformed power line is an ordinary log line', () => {
    expect(
      parseWorkerEventLine('{"v":1,"event":"power","rank":0,"time":1,"host":"h","device":"h/gpu/x","watts":-1}'),
    ).toBeUndefined();
    expect(parseWorkerEventLine('{"v":1,"event":"power","rank":0,"time":1,"host":"h","watts":5}')).toBeUndefined();
  });
});
