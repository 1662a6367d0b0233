import type { ProcessTotals } from './aggregate.js';

export interface IdleAdjustment {
  /** Energy above idle (J); null when no idle power is known. */
  adjusted_j: number | null;
  /** The idle power subtracted (W); null when none is known. */
  idle_power_w: number | null;
}

/**
 * Idle-adjusted energy:
 * - with an explicit total idle power P (everything measured together, over the window T): max(0, E − P·T);
 * - else Σ over counted readings of max(0, E_i − P_idle,i · active_s,i): each reading's idle power
 *   times the seconds that reading itself covered (its active spans), not the longest rank's
 *   window. A counted reading without an idle power enters unadjusted (its E_i); null when no
 *   counted reading has an idle power, or when the energy is incomplete.
 */
export function idleAdjustedEnergy(t: ProcessTotals, idlePowerW: number | null): IdleAdjustment {
  const energy = t.energy_total_j;
  if (energy === null) return { adjusted_j: null, idle_power_w: idlePowerW };
  if (idlePowerW !== null)
    return { adjusted_j: Math.max(0, energy - idlePowerW * t.window_s), idle_power_w: idlePowerW };
  let adjusted = 0;
  let idle = 0;
  let known = false;
  for (const r of t.energy_counted_readings) {
    if (r.energy_j === null) return { adjusted_j: null, idle_power_w: null }; // unread device: no total
    if (r.idle_power_w === null) {
      adjusted += r.energy_j;
      continue;
    }
    known = true;
    idle += r.idle_power_w;
    adjusted += Math.max(0, r.energy_j - r.idle_power_w * r.active_s);
  }
  return known ? { adjusted_j: adjusted, idle_power_w: idle } : { adjusted_j: null, idle_power_w: null };
}
