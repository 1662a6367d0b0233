import { describe, expect, it } from 'vitest';
import { RawMeasurementSchema } from './raw-measurement.js';
import { rawRank, reading } from './__fixtures__/raw.js';

const issues = (value: unknown) => {
  const r = RawMeasurementSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('RawMeasurementSchema (contract v2)', () => {
  const valid = rawRank({ rank: 0, readings: [reading('n/gpu/A', 'gpu', 5, false, 60)] });

  it('accepts a v2 measurement', () => {
    expect(issues(valid)).toEqual([]);
  });

  it('accepts only schema_version 2', () => {
    expect(issues({ ...valid, schema_version: 1 })[0]).toMatch(/^schema_version: /);
    expect(issues({ ...valid, schema_version: 3 })[0]).toMatch(/^schema_version: /);
  });

  it('requires the v2 fields (no silent defaults)', () => {
    const { idle_power_w: _idle, ...oldReading } = valid.energy.readings[0]!;
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [oldReading] } })).toEqual([expect.stringMatching(/^energy\.readings\.0\.idle_power_w: /)]);
    const { samples: _s, ...noSamples } = valid.energy;
    expect(issues({ ...valid, energy: noSamples })).toEqual([expect.stringMatching(/^energy\.samples: /)]);
    const { ttft_s: _t, ...oldBatch } = valid.batches[0]!;
    expect(issues({ ...valid, batches: [oldBatch] })).toEqual([expect.stringMatching(/^batches\.0\.ttft_s: /)]);
    const { quantized: _q, ...oldFlops } = valid.flops;
    expect(issues({ ...valid, flops: oldFlops })).toEqual([expect.stringMatching(/^flops\.quantized: /)]);
  });

  it('rejects unknown keys', () => {
    expect(issues({ ...valid, extra: 1 })).toHaveLength(1);
    expect(issues({ ...valid, energy: { ...valid.energy, idle: { duration_s: 5, cached: false, extra: 1 } } })).toHaveLength(1);
  });

  it('a batch ttft cannot exceed its latency', () => {
    const batch = { ...valid.batches[0]!, latency_s: 0.1, ttft_s: 0.2 };
    expect(issues({ ...valid, batches: [batch] })).toEqual(['batches.0.ttft_s: must not exceed latency_s']);
  });

  it('the time series is a file beside rank-<r>.json, not a path', () => {
    const with_ = (f: string) => ({ ...valid, energy: { ...valid.energy, timeseries_file: f } });
    expect(issues(with_('timeseries-rank-0.jsonl'))).toEqual([]);
    expect(issues(with_('../x.jsonl'))[0]).toMatch(/^energy\.timeseries_file: must be a file name/);
    expect(issues(with_('/abs/x.jsonl'))).toHaveLength(1);
  });

  it('environment values may be any JSON; non-finite numbers are not JSON', () => {
    const env = { python: '3.11', gpus: [{ name: 'H100', power_limit_w: 700 }], cuda: null, git_dirty: false };
    expect(issues({ ...valid, environment: env })).toEqual([]);
    expect(issues({ ...valid, environment: { x: Number.NaN } })).toHaveLength(1);
  });

  it('negative energy, idle power or delay are rejected with their path', () => {
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [{ ...valid.energy.readings[0]!, idle_power_w: -1 }] } })[0]).toMatch(/^energy\.readings\.0\.idle_power_w/);
    expect(issues({ ...valid, batches: [{ ...valid.batches[0]!, delay_before_s: -0.1 }] })[0]).toMatch(/^batches\.0\.delay_before_s/);
  });
});
