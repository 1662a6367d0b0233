import { parseProgressKey } from '@joules/tracker';
import { describe, expect, it } from 'vitest';
import { isoMillis } from './done-durations.js';
import { KeyPrefixes } from './key-prefixes.js';

const parse = (key: string) => {
  try {
    return parseProgressKey(key);
  } catch {
    return undefined;
  }
};

describe('KeyPrefixes', () => {
  it('finds a key by its prefix only where parseProgressKey reads the same parts', () => {
    const pieces = ['org/m', 'a:b', 's', '', 'cfg-1', ':x', 'y:', ':'];
    const cycles = ['', '0', '7', '012', '123456789012345', '1234567890123456', 'x', '1a', ' 1', '-1'];
    const keys: string[] = [];
    for (const m of pieces)
      for (const s of pieces) for (const c of pieces) for (const y of cycles) keys.push(`${m}::${s}::${c}::${y}`);
    keys.push('a::b', 'a::b::c', '::::', '::1', 'plain');
    const prefixes = new KeyPrefixes<ReturnType<typeof parseProgressKey>>();
    let found = 0;
    // Each key's parts are set by one key, then every key of any cycle is looked up.
    for (const key of keys) {
      const parts = parse(key);
      if (parts && !prefixes.find(key)) prefixes.set(key, parts);
    }
    for (const key of keys) {
      const hit = prefixes.find(key);
      if (!hit) continue;
      found++;
      const cycle = prefixes.cycle;
      expect({ ...hit, cycle: cycle < 0 ? null : cycle }).toEqual(parse(key));
    }
    expect(found).toBeGreaterThan(keys.length / 4);
  });
});

describe('isoMillis', () => {
  it('reads what Date.parse reads', () => {
    const days = ['2026-11-01', '2026-00-10', '2026-13-01', '2024-02-29', '2026-02-30', '2026-01-32', '0000-01-01'];
    const times = ['00:00:00.000', '23:59:59.999', '12:34:56.789', '24:00:00.000', '23:60:00.000', '00:00:60.000'];
    const odd = [
      '',
      'x',
      '2026-11-01',
      '2026-11-01T00:00:00Z',
      '2026-11-01T00:00:00.000+01:00',
      '2026-1a-01T00:00:00.000Z',
    ];
    for (const text of [...days.flatMap((d) => times.map((t) => `${d}T${t}Z`)), ...odd])
      expect([text, isoMillis(text)]).toEqual([text, Date.parse(text)]);
  });
});
