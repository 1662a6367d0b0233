import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseWorkerEventLine, workerEventJsonSchema } from './worker-events.js';

const contract = fileURLToPath(new URL('../../../contract/', import.meta.url));

describe('worker contract: progress events', () => {
  it('contract/event.schema.json is the one generated from the zod schema (run `npm run contract`)', () => {
    expect(JSON.parse(readFileSync(`${contract}event.schema.json`, 'utf8'))).toEqual(workerEventJsonSchema());
  });

  it('parses events leniently: log lines and foreign JSON are not events', () => {
    expect(parseWorkerEventLine('{"v":1,"rank":0,"time":1,"event":"warmup","i":1,"n":2}')).toEqual({
      v: 1,
      rank: 0,
      time: 1,
      event: 'warmup',
      i: 1,
      n: 2,
    });
    expect(parseWorkerEventLine('Loading checkpoint shards: 100%')).toBeUndefined();
    expect(parseWorkerEventLine('{"event":"batch"}')).toBeUndefined();
    expect(parseWorkerEventLine('{not json')).toBeUndefined();
  });
});
