import { z } from 'zod';
import { ENERGY_BACKEND_NAMES } from './engines/energy-backend-table.js';

/** How energy is measured: `backend` is "auto" or a name of the backend table. */
export const EnergySchema = z
  .strictObject({
    backend: z
      .enum(['auto', ...ENERGY_BACKEND_NAMES])
      .default('auto')
      .describe('energy measurement backend; auto picks the best available'),
    country_iso_code: z
      .string()
      .regex(/^[A-Z]{3}$/, 'expected a 3-letter ISO 3166 country code, e.g. "USA"')
      .default('USA')
      .describe('grid carbon intensity by country (CodeCarbon)'),
    measure_power_secs: z.number().positive().max(3600).default(1).describe('power sampling interval (s)'),
    idle_baseline_s: z
      .number()
      .nonnegative()
      .default(0)
      .describe('seconds of idle power measured before warm-up; 0 = none'),
    carbon_intensity_g_per_kwh: z
      .number()
      .nonnegative()
      .nullable()
      .default(null)
      .describe("overrides the backend's / country's carbon intensity (g CO2e per kWh)"),
    pue: z.number().gte(1).default(1).describe('power usage effectiveness (>= 1), applied to emissions only'),
    allow_shared_host: z
      .boolean()
      .default(false)
      .describe(
        'allow --max-parallel > 1 with a host-level backend (codecarbon, rapl, zeus, auto on CPU): each job then reports the whole host, and its rows say energy_host_shared=true',
      ),
  })
  .describe('energy measurement');
