import { sum } from './numbers.js';
import type { EnergyReading, RawMeasurement } from './raw-measurement.js';

export type EnergyScope = EnergyReading['scope'];

/** How the energy readings of all ranks are counted. */
export interface EnergyAccount {
  /** One reading per (device_id, scope), sorted by device id then scope. */
  readings: EnergyReading[];
  /**
   * The readings that enter the total: all of `readings`, except component readings (gpu, cpu,
   * ram) of a host that also has a whole-machine reading, which already contains them.
   */
  counted: EnergyReading[];
  /** Joules per scope over `readings`; null for a scope no reading covered. */
  by_scope_j: Record<EnergyScope, number | null>;
  /**
   * Σ of the counted readings; null when no rank produced a reading (energy not measured), and
   * null when the energy is incomplete (`complete` false): a device without a reading is never 0 J.
   */
  total_j: number | null;
  /**
   * False when any rank could not read one of its devices (its `energy.complete` is false, or a
   * reading is null); null when nothing was measured (no readings at all); else true.
   */
  complete: boolean | null;
  /** The devices that could not be read, with the worker's reason, by rank. */
  missing: Array<{ rank: number; device_id: string; scope: EnergyScope; reason: string }>;
  estimated: boolean;
}

/**
 * Count each device once. Readings naming the same (device_id, scope) — several ranks on one
 * GPU, or a machine-level reader in several processes — are one device: the largest reading is
 * kept (on a tie, the lowest rank's). `ranks` must be sorted by rank.
 */
export function accountEnergy(ranks: readonly RawMeasurement[]): EnergyAccount {
  const kept = new Map<string, { reading: EnergyReading; host: string }>();
  for (const r of ranks) {
    for (const reading of r.energy.readings) {
      const key = `${reading.scope}|${reading.device_id}`;
      const prev = kept.get(key);
      if (!prev || (reading.energy_j ?? -1) > (prev.reading.energy_j ?? -1)) kept.set(key, { reading, host: r.host });
    }
  }
  const entries = [...kept.values()].sort((a, b) => compare(a.reading, b.reading));
  const machineHosts = new Set(entries.filter((e) => e.reading.scope === 'machine').map((e) => e.host));
  const counted = entries
    .filter((e) => e.reading.scope === 'machine' || !machineHosts.has(e.host))
    .map((e) => e.reading);
  const readings = entries.map((e) => e.reading);

  const missing = ranks.flatMap((r) =>
    r.energy.readings
      .filter((x) => x.energy_j === null)
      .map((x) => ({ rank: r.rank, device_id: x.device_id, scope: x.scope, reason: x.missing_reason ?? 'not read' })),
  );
  const measured = ranks.some((r) => r.energy.readings.length > 0);
  const complete = !measured ? null : missing.length === 0 && ranks.every((r) => r.energy.complete);

  const by_scope_j: Record<EnergyScope, number | null> = { gpu: null, cpu: null, ram: null, machine: null };
  const unread = new Set(missing.map((m) => m.scope));
  for (const r of readings)
    if (r.energy_j !== null && !unread.has(r.scope)) by_scope_j[r.scope] = (by_scope_j[r.scope] ?? 0) + r.energy_j;
  // A device that could not be read (energy_j null) is never 0 J: its scope and the total are refused (null).
  const joules = counted.map((r) => r.energy_j);
  return {
    readings,
    counted,
    by_scope_j,
    total_j: counted.length && complete === true ? sum(joules as number[]) : null,
    complete,
    missing,
    estimated:
      counted.some((r) => r.estimated) || ranks.some((r) => r.energy.estimated && r.energy.readings.length > 0),
  };
}

function compare(a: EnergyReading, b: EnergyReading): number {
  if (a.device_id !== b.device_id) return a.device_id < b.device_id ? -1 : 1;
  return a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0;
}
