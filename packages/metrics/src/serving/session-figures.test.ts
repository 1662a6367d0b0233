import { describe, expect, it } from 'vitest';
import { workerLine, workerSummary } from './__fixtures__/worker-lines.js';
import { servingMetrics } from './serving-metrics.js';
import { SESSION_COLUMNS, sessionFigures } from './session-figures.js';

// Request lines and a summary as the worker writes them (older fields absent: they read as null).
const line = workerLine;
const summaryOf = (extra: Record<string, unknown> = {}) => workerSummary({ api: 'chat', num_requests: 6, ...extra });
const sessionsBlock = (incomplete: number[]) => ({
  count: 3,
  turns: 3,
  think_time_s: { distribution: 'uniform', mean: 1, range_ratio: 0.5, min: null, max: null },
  started: 3,
  completed: 3 - incomplete.length,
  incomplete,
  turns_per_session_mean: 2,
  think_time_waited_mean_s: 0.9,
  ran_out: false,
  per_turn: [{ turn: 1, requests: 3, errors: 0, input_tokens_mean: 10, energy_j_mean: 2, ttft_mean_s: 0.2 }],
});

// Session 0: 3 turns (1 + 2 + 4 J); session 1: 2 turns (3 + 5 J); session 2 cut after 1 turn (6 J).
const turns: [number, number, number][] = [
  [0, 1, 1],
  [1, 1, 3],
  [0, 2, 2],
  [2, 1, 6],
  [1, 2, 5],
  [0, 3, 4],
];
const lines = turns.map(([session, turn, energy_j], i) => line(i, { session, turn, energy_j }));
const attributed = { energy_attribution: 'in_flight_share', energy_attribution_source: 'timeline' };

describe('sessions and per-request energy (issue 23)', () => {
  it('energy per session is the mean over complete sessions of the sum of their turns; per turn the mean over turns', () => {
    const s = summaryOf({ ...attributed, sessions: sessionsBlock([2]) });
    expect(sessionFigures(lines, s)).toEqual({
      serving_sessions: 3,
      serving_sessions_completed: 2,
      serving_turns_per_session_mean: 2,
      serving_energy_per_session_j: (7 + 8) / 2,
      serving_energy_per_turn_j: 21 / 6,
      serving_energy_attribution: 'in_flight_share',
      serving_energy_attribution_source: 'timeline',
    });
    // the turns' energies are the window's, shared out: their sum is energy_whole_j
    expect(lines.reduce((a, r) => a + r.energy_j!, 0)).toBe(s.energy_whole_j);
    expect(servingMetrics(lines, s, { ttft_ms: null, tpot_ms: null })).toMatchObject({ serving_sessions: 3 });
  });

  it('a session with a turn without energy has no energy; no reading at all leaves both empty', () => {
    const unread = lines.map((r) => (r.session === 1 && r.turn === 2 ? { ...r, energy_j: null } : r));
    const s = summaryOf({ ...attributed, sessions: sessionsBlock([2]) });
    expect(sessionFigures(unread, s).serving_energy_per_session_j).toBe(7);
    const none = lines.map((r) => ({ ...r, energy_j: null }));
    const figures = sessionFigures(none, summaryOf({ sessions: sessionsBlock([]) }));
    expect([figures.serving_energy_per_session_j, figures.serving_energy_per_turn_j]).toEqual([null, null]);
    expect(figures.serving_sessions_completed).toBe(3);
  });

  it('single requests: no session figures, but the attribution still says how energy_j was found', () => {
    const single = [line(0, { energy_j: 4 }), line(1, { energy_j: 6 })];
    const figures = sessionFigures(single, summaryOf({ ...attributed, energy_attribution_source: 'prorated_by_time' }));
    expect(figures).toMatchObject({
      serving_sessions: null,
      serving_energy_per_session_j: null,
      serving_energy_attribution: 'in_flight_share',
      serving_energy_attribution_source: 'prorated_by_time',
    });
  });

  it('files written before read as empty', () => {
    const old = line(0);
    expect([old.session, old.turn, old.energy_j]).toEqual([null, null, null]);
    const figures = sessionFigures([old], summaryOf());
    expect(SESSION_COLUMNS.map((c) => figures[c])).toEqual(SESSION_COLUMNS.map(() => null));
  });
});
