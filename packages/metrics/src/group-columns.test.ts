import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordLike } from './group-columns.js';
import type { CellValue } from './result-record.js';
import { describeSample, type SampleStatistics } from './statistics.js';
import { cycleStatistics, effectiveHashOf, groupStatistics } from './summaries.js';

// The block-wise columnar statistics against a straightforward reference: group the records with a
// Map, then describeSample over each group's values of each metric (the same two-pass arithmetic, so
// results must be identical, not just close). Record counts go past one block (128 records), groups
// past one block too, key orders differ between records, and cells are missing, null, NaN or ±∞.

const compare = (a: CellValue, b: CellValue): number => {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
};

const numberOrNull = (v: CellValue | undefined): number | null => (typeof v === 'number' ? v : null);

function referenceGroups(records: readonly RecordLike[], by: readonly string[], metrics: readonly string[]) {
  const groups = new Map<string, RecordLike[]>();
  for (const r of records) {
    const id = JSON.stringify(by.map((c) => r[c] ?? null));
    const rows = groups.get(id);
    if (rows) rows.push(r);
    else groups.set(id, [r]);
  }
  return [...groups.values()]
    .map((rows) => ({
      key: Object.fromEntries(by.map((c) => [c, rows[0]![c] ?? null])) as Record<string, CellValue>,
      n: rows.length,
      metrics: Object.fromEntries(
        metrics.map((c) => [c, describeSample(rows.map((r) => numberOrNull(r[c])))]),
      ) as Record<string, SampleStatistics>,
    }))
    .sort((a, b) => {
      for (const c of by) {
        const d = compare(a.key[c] ?? null, b.key[c] ?? null);
        if (d !== 0) return d;
      }
      return 0;
    });
}

const METRICS = ['energy_total_j', 'tokens_per_j', 'latency_mean_s', 'flops_total'];
const cell = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(null, undefined, 0, Number.NaN, Number.POSITIVE_INFINITY, 1e308) },
  { weight: 1, arbitrary: fc.double() },
);
const recordArb = fc
  .record(
    {
      config_hash: fc.constantFrom('a', 'b', 'c', 'd'),
      effective_config_hash: fc.constantFrom(null, '', 'a', 'e'),
      model_name: fc.constantFrom('m1', 'm2', null),
      cycle_id: fc.constantFrom(null, 1, 2, 3),
      batch_size: fc.constantFrom(1, 4, 8),
      energy_total_j: cell,
      tokens_per_j: cell,
      latency_mean_s: cell,
      flops_total: cell,
    },
    { requiredKeys: ['config_hash'] },
  )
  .chain((r) => fc.shuffledSubarray(Object.keys(r), { minLength: Object.keys(r).length }).map((keys) => ({ r, keys })))
  .map(({ r, keys }) => Object.fromEntries(keys.map((k) => [k, (r as Record<string, CellValue>)[k]])) as RecordLike);
const recordsArb = fc.oneof(
  fc.array(recordArb, { maxLength: 20 }),
  fc.array(recordArb, { minLength: 129, maxLength: 400, size: 'max' }),
);
const metricsArb = fc.oneof(fc.constant(METRICS), fc.shuffledSubarray([...METRICS, 'energy_total_j', 'not_a_column']));

describe('group statistics, block-wise over columns', () => {
  it('equal a straightforward per-group describeSample, for any grouping and metrics', () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.constantFrom(['model_name'], ['batch_size'], ['model_name', 'cycle_id'], []),
        metricsArb,
        (records, by, metrics) => {
          expect(groupStatistics(records, { by, metrics })).toStrictEqual(referenceGroups(records, by, metrics));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('cycle statistics equal the reference grouped by effective hash, with hashes, names and cycle ids', () => {
    fc.assert(
      fc.property(recordsArb, metricsArb, (records, metrics) => {
        const withHash: RecordLike[] = records.map((r, i) => ({ ...r, hash: effectiveHashOf(r, i) }));
        const expected = referenceGroups(withHash, ['hash'], metrics).map((g) => {
          const rows = withHash.filter((r) => r.hash === g.key.hash);
          const planned = (r: RecordLike) =>
            typeof r.config_hash === 'string' && r.config_hash ? r.config_hash : g.key.hash;
          return {
            key: { effective_config_hash: g.key.hash },
            n: g.n,
            metrics: g.metrics,
            effective_config_hash: g.key.hash,
            config_hash: planned(rows[0]!),
            config_hashes: [...new Set(rows.map(planned))].sort(),
            config_name: rows[0]!.config_name ?? null,
            model_name: rows[0]!.model_name ?? null,
            cycle_ids: [...new Set(rows.map((r) => r.cycle_id ?? null))].sort(compare),
          };
        });
        expect(cycleStatistics(records, { metrics })).toStrictEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('a non-number cell anywhere (also past the first block) names its record and column', () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ config_hash: `h${i % 7}`, energy_total_j: i }));
    const bad = [...rows.slice(0, 250), { config_hash: 'h1', energy_total_j: true }, ...rows.slice(250)];
    expect(() => cycleStatistics(bad, { metrics: ['energy_total_j'] })).toThrow(
      /record 250: column energy_total_j is boolean true, not a number/,
    );
  });
});
