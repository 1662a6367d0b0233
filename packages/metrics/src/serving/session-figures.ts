import { mean, sum } from '../numbers.js';
import type { ServingRequest, ServingSummary } from './serving-schema.js';

/**
 * Multi-turn sessions (issue 23, `load.sessions`) and how each request's energy was found. A request's
 * `energy_j` is its share of the window's energy (`in_flight_share`: each piece between two
 * sends/ends shared by the requests in flight, the unshared joules — idle gaps, think times — spread
 * in proportion; the worker's energy_attribution.py), so a session's energy is the sum of its turns'
 * and the requests' energies sum to the window's. In-flight time rather than tokens: a turn with a long
 * history stays longer in prefill and pays for it, where prorating by output tokens would charge it as
 * a first turn and prorating by input tokens would charge history the prefix cache served.
 */
export interface SessionFigures {
  /** Sessions started (request lines with a session). */
  serving_sessions: number | null;
  /** Sessions whose every turn was answered (not cut by `load.duration_s` nor ended by a failed turn). */
  serving_sessions_completed: number | null;
  /** Mean turns sent per session. */
  serving_turns_per_session_mean: number | null;
  /** Mean over complete sessions of the sum of their turns' energy (J). */
  serving_energy_per_session_j: number | null;
  /** Mean energy of a turn (J), over every turn sent. */
  serving_energy_per_turn_j: number | null;
  /** How each request's energy_j was found: `in_flight_share` (every serving load with an energy reading). */
  serving_energy_attribution: string | null;
  /** Where its pieces' joules came from: `timeline` (counters sampled through the load) or `prorated_by_time`. */
  serving_energy_attribution_source: string | null;
}

export function sessionFigures(requests: readonly ServingRequest[], summary: ServingSummary): SessionFigures {
  const attribution = {
    serving_energy_attribution: summary.energy_attribution,
    serving_energy_attribution_source: summary.energy_attribution_source,
  };
  const sessions = new Map<number, ServingRequest[]>();
  for (const r of requests) {
    if (r.session === null) continue;
    const turns = sessions.get(r.session);
    if (turns) turns.push(r);
    else sessions.set(r.session, [r]);
  }
  if (sessions.size === 0)
    return {
      serving_sessions: null,
      serving_sessions_completed: null,
      serving_turns_per_session_mean: null,
      serving_energy_per_session_j: null,
      serving_energy_per_turn_j: null,
      ...attribution,
    };
  const incomplete = new Set(summary.sessions?.incomplete ?? []);
  const complete = [...sessions].filter(([id]) => !incomplete.has(id)).map(([, turns]) => turns);
  const energies = (turns: readonly ServingRequest[]) => turns.map((r) => r.energy_j);
  const known = (values: (number | null)[]): values is number[] => values.every((v) => v !== null);
  const perSession = complete.map(energies).filter(known).map(sum);
  const perTurn = [...sessions.values()].flatMap(energies).filter((v): v is number => v !== null);
  return {
    serving_sessions: sessions.size,
    serving_sessions_completed: complete.length,
    serving_turns_per_session_mean: mean([...sessions.values()].map((t) => t.length)),
    serving_energy_per_session_j: mean(perSession),
    serving_energy_per_turn_j: mean(perTurn),
    ...attribution,
  };
}

/** The columns of the session figures (in WORKLOAD_COLUMNS). */
export const SESSION_COLUMNS = [
  'serving_sessions',
  'serving_sessions_completed',
  'serving_turns_per_session_mean',
  'serving_energy_per_session_j',
  'serving_energy_per_turn_j',
  'serving_energy_attribution',
  'serving_energy_attribution_source',
] as const satisfies readonly (keyof SessionFigures)[];
