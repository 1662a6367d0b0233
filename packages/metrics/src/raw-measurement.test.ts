import { describe, expect, it } from 'vitest';
import { rawRank, reading } from './__fixtures__/raw.js';
import { RawMeasurementSchema } from './raw-measurement.js';

const issues = (value: unknown) => {
  const r = RawMeasurementSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('RawMeasurementSchema (schema_version 3)', () => {
  const valid = rawRank({ rank: 0, readings: [reading('n/gpu/A', 'gpu', 5, false, 60)] });

  it('accepts a v3 measurement', () => {
    expect(issues(valid)).toEqual([]);
  });

  it('accepts only schema_version 3', () => {
    expect(issues({ ...valid, schema_version: 2 })[0]).toMatch(/^schema_version: /);
    expect(issues({ ...valid, schema_version: 4 })[0]).toMatch(/^schema_version: /);
  });

  it('requires the v3 fields: active_s and missing_reason per reading, complete and gpu_state per rank', () => {
    const { active_s: _a, missing_reason: _m, ...v2Reading } = valid.energy.readings[0]!;
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [v2Reading] } }).sort()).toEqual([
      expect.stringMatching(/^energy\.readings\.0\.active_s: /),
      expect.stringMatching(/^energy\.readings\.0\.missing_reason: /),
    ]);
    const { complete: _c, gpu_state: _g, ...v2Energy } = valid.energy;
    expect(issues({ ...valid, energy: v2Energy }).sort()).toEqual([
      expect.stringMatching(/^energy\.complete: /),
      expect.stringMatching(/^energy\.gpu_state: /),
    ]);
  });

  it('a device that could not be read is null with a reason, never 0 J, and the rank is incomplete', () => {
    const unread = { ...valid.energy.readings[0]!, energy_j: null, missing_reason: 'GPU-x not found by NVML' };
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [unread], complete: false } })).toEqual([]);
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [unread], complete: true } })).toEqual([
      'energy.complete: must be false when a reading is null',
    ]);
    expect(
      issues({
        ...valid,
        energy: { ...valid.energy, readings: [{ ...unread, missing_reason: null }], complete: false },
      }),
    ).toEqual(['energy.readings.0.missing_reason: must be set exactly when energy_j is null']);
    expect(
      issues({
        ...valid,
        energy: { ...valid.energy, readings: [{ ...valid.energy.readings[0]!, missing_reason: 'x' }] },
      }),
    ).toEqual(['energy.readings.0.missing_reason: must be set exactly when energy_j is null']);
  });

  it('gpu_state records temperature, P-state and power limit per GPU', () => {
    const state = { device_id: 'n/gpu/A', temp_c: 41, pstate: 8, power_limit_w: 700 };
    const gpu_state = { idle: [state], window_start: [{ ...state, temp_c: 63, pstate: 0 }] };
    expect(issues({ ...valid, energy: { ...valid.energy, gpu_state } })).toEqual([]);
    expect(issues({ ...valid, energy: { ...valid.energy, gpu_state: { ...gpu_state, idle: null } } })).toEqual([]);
    expect(
      issues({
        ...valid,
        energy: { ...valid.energy, gpu_state: { idle: null, window_start: [{ ...state, pstate: -1 }] } },
      })[0],
    ).toMatch(/^energy\.gpu_state\.window_start\.0\.pstate/);
  });

  it('requires the v2 fields (no silent defaults)', () => {
    const { idle_power_w: _idle, ...oldReading } = valid.energy.readings[0]!;
    expect(issues({ ...valid, energy: { ...valid.energy, readings: [oldReading] } })).toEqual([
      expect.stringMatching(/^energy\.readings\.0\.idle_power_w: /),
    ]);
    const { samples: _s, ...noSamples } = valid.energy;
    expect(issues({ ...valid, energy: noSamples })).toEqual([expect.stringMatching(/^energy\.samples: /)]);
    const { ttft_s: _t, ...oldBatch } = valid.batches[0]!;
    expect(issues({ ...valid, batches: [oldBatch] })).toEqual([expect.stringMatching(/^batches\.0\.ttft_s: /)]);
    const { quantized: _q, ...oldFlops } = valid.flops;
    expect(issues({ ...valid, flops: oldFlops })).toEqual([expect.stringMatching(/^flops\.quantized: /)]);
  });

  it('rejects unknown keys', () => {
    expect(issues({ ...valid, extra: 1 })).toHaveLength(1);
    expect(
      issues({ ...valid, energy: { ...valid.energy, idle: { duration_s: 5, cached: false, extra: 1 } } }),
    ).toHaveLength(1);
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
    expect(
      issues({
        ...valid,
        energy: { ...valid.energy, readings: [{ ...valid.energy.readings[0]!, idle_power_w: -1 }] },
      })[0],
    ).toMatch(/^energy\.readings\.0\.idle_power_w/);
    expect(issues({ ...valid, batches: [{ ...valid.batches[0]!, delay_before_s: -0.1 }] })[0]).toMatch(
      /^batches\.0\.delay_before_s/,
    );
  });
});
