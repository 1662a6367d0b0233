import type { EnergyReading, RawMeasurement } from './raw-measurement.js';
import { sum } from './numbers.js';

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
  /** Σ of the counted readings; null when no rank produced a reading (energy not measured). */
  total_j: number | null;
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
  const counted = entries.filter((e) => e.reading.scope === 'machine' || !machineHosts.has(e.host)).map((e) => e.reading);
  const readings = entries.map((e) => e.reading);

  const by_scope_j: Record<EnergyScope, number | null> = { gpu: null, cpu: null, ram: null, machine: null };
  const unread = new Set(readings.filter((r) => r.energy_j === null).map((r) => r.scope));
  for (const r of readings) if (r.energy_j !== null && !unread.has(r.scope)) by_scope_j[r.scope] = (by_scope_j[r.scope] ?? 0) + r.energy_j;
  // A device that could not be read (energy_j null) is never 0 J: its scope and the total are refused (null).
  const joules = counted.map((r) => r.energy_j);
  const known = joules.every((j): j is number => j !== null);
  return {
    readings,
    counted,
    by_scope_j,
    total_j: counted.length && known ? sum(joules as number[]) : null,
    estimated: counted.some((r) => r.estimated) || ranks.some((r) => r.energy.estimated && r.energy.readings.length > 0),
  };
}

function compare(a: EnergyReading, b: EnergyReading): number {
  if (a.device_id !== b.device_id) return a.device_id < b.device_id ? -1 : 1;
  return a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0;
}
