import { percentile } from '../numbers.js';
import type { ServingRequest } from './serving-schema.js';

/**
 * The load generator is *behind* when the p99 of its sends' lag behind their schedule exceeds both
 * this floor (an asyncio loop's ordinary jitter stays well below 10 ms) and {@link LAG_SHARE} of the
 * mean time between scheduled sends (below a tenth the arrival process keeps its shape). The worker
 * logs a warning by the same rule (python/joules_worker/engines/server/load_generator.py).
 */
export const LAG_FLOOR_S = 0.01;
export const LAG_SHARE = 0.1;

/** What the rows say about the client itself. */
export interface ClientFigures {
  /** Open loop: p99 of how late each send ran behind its schedule (s); null in closed loop. */
  serving_send_lag_p99_s: number | null;
  serving_client_behind: boolean | null;
  /** Where the tokens per chunk came from: the server's running count (`usage`) or one per chunk (`chunks`). */
  serving_itl_source: 'usage' | 'chunks' | null;
}

const given = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

export function clientFigures(requests: readonly ServingRequest[]): ClientFigures {
  const p99 = percentile(requests.map((r) => r.send_lag_s).filter(given), 99);
  const offsets = requests
    .map((r) => r.scheduled_s)
    .filter(given)
    .sort((a, b) => a - b);
  const meanGap = offsets.length > 1 ? (offsets[offsets.length - 1]! - offsets[0]!) / (offsets.length - 1) : 0;
  const sources = requests
    .filter((r) => r.error === null)
    .map((r) => r.itl_source)
    .filter(given);
  return {
    serving_send_lag_p99_s: p99,
    serving_client_behind: p99 === null ? null : p99 > Math.max(LAG_FLOOR_S, LAG_SHARE * meanGap),
    serving_itl_source: sources.length === 0 ? null : sources.includes('chunks') ? 'chunks' : 'usage',
  };
}
