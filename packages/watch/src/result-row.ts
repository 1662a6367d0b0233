import type { ResultColumn } from '@joules/metrics';
import type { CsvCells } from '@joules/tracker/follow';

/** Columns a suite may vary that carry a value of their own (else the configuration's name): the chart's candidates. */
export const FACTOR_CANDIDATES = [
  'batch_size',
  'precision',
  'num_processes',
  'num_prompts',
] as const satisfies readonly ResultColumn[];
const NOMINAL: ReadonlySet<string> = new Set(['precision']);

/** The columns of a results CSV the watch reads; the other ~120 are never decoded. */
export const RESULT_FIELDS = [
  'experiment_id',
  'config_name',
  'model_name',
  'suite',
  'cycle_id',
  'total_time_s',
  'energy_total_j',
  'energy_per_token_j',
  ...FACTOR_CANDIDATES,
  // Serving rows (engine "server") only: found and decoded only in a record that holds "server"
  // somewhere (a native search of its bytes), so other rows are never scanned this far.
  'engine',
  'load_concurrency',
  'load_rate',
  'serving_output_tokens_per_s',
  'serving_ttft_p90_s',
  'serving_tpot_p90_s',
  'serving_energy_per_request_j',
] as const satisfies readonly ResultColumn[];

/** A serving row's figures (engine "server"): what the throughput–latency curve and the Pareto front need. */
export interface ServingFigures {
  /** load_rate when set (requests/s), else load_concurrency. */
  load: number | null;
  loadKind: 'rate' | 'concurrency' | null;
  /** Output tokens/s, p90 TTFT and TPOT (s), J per request. */
  tps: number | null;
  ttft: number | null;
  tpot: number | null;
  epr: number | null;
}

/** One recorded result as the watch keeps it: the columns the page, the chart and /metrics need. */
export interface ResultRow {
  id: string;
  suite: string | null;
  /** The full model name (`org/name`). */
  model: string;
  config: string;
  cycle: number | null;
  perToken: number | null;
  totalJ: number | null;
  seconds: number | null;
}

/** A row as read: with its values of FACTOR_CANDIDATES (in that order), which only the chart's per-configuration aggregates keep. */
export interface ParsedResult extends ResultRow {
  factors: ReadonlyArray<string | number | null>;
  /** Its serving figures, when its engine is "server" (else null). */
  serving: ServingFigures | null;
}

/** Is a candidate factor a number (quantitative on a chart)? */
export const isQuantitative = (field: string) => !NOMINAL.has(field);
const QUANTITATIVE = FACTOR_CANDIDATES.map(isQuantitative);
const FIRST_FACTOR = RESULT_FIELDS.indexOf(FACTOR_CANDIDATES[0]);
const ENGINE = RESULT_FIELDS.indexOf('engine');

class BadCell extends Error {}

/** Only digits, signs, points and exponents (not empty): with Number finite, a decimal (no 0x, 0b, 0o, Infinity). */
function decimalChars(cell: string): boolean {
  for (let i = 0; i < cell.length; i++) {
    const c = cell.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69)) return false;
  }
  return cell.length > 0;
}

/** A numeric cell as parseResultRecord reads it: '' is null, anything but a finite decimal is a bad row. */
function number(cell: string): number | null {
  if (cell === '') return null;
  const n = Number(cell);
  if (!Number.isFinite(n) || !decimalChars(cell.trim())) throw new BadCell(cell);
  return n;
}

/** number() of a cell, its text made only when it is not plain digits, signs, points and exponents. */
function numberAt(cells: CsvCells, slot: number): number | null {
  const n = cells.decimal(slot);
  if (n === undefined) return number(cells.text(slot));
  if (!Number.isFinite(n)) throw new BadCell(cells.text(slot));
  return n;
}

/**
 * Repeated names (models, configurations, suites) share one string: 100,000 rows of 4 models hold 4
 * copies, not 100,000.
 */
export class Interner {
  readonly #seen = new Map<string, string>();
  get(s: string): string {
    const known = this.#seen.get(s);
    if (known !== undefined) return known;
    this.#seen.set(s, s);
    return s;
  }
}

/**
 * A CSV record of RESULT_FIELDS (in that order) as a ResultRow; undefined when a cell it reads is
 * not what the column holds (a number column with text) or the row names no experiment.
 */
export function toResultRow(cells: CsvCells, names: Interner): ParsedResult | undefined {
  try {
    const id = cells.text(0);
    const config = cells.text(1);
    const model = cells.text(2);
    if (!id || !config || !model) return undefined;
    const suite = cells.text(3);
    const factors: Array<string | number | null> = [];
    for (let i = 0; i < FACTOR_CANDIDATES.length; i++) {
      const slot = FIRST_FACTOR + i;
      if (QUANTITATIVE[i]) factors.push(numberAt(cells, slot));
      else {
        const cell = cells.text(slot);
        factors.push(cell === '' ? null : names.get(cell));
      }
    }
    return {
      id,
      suite: suite ? names.get(suite) : null,
      model: names.get(model),
      config: names.get(config),
      cycle: numberAt(cells, 4),
      seconds: numberAt(cells, 5),
      totalJ: numberAt(cells, 6),
      perToken: numberAt(cells, 7),
      factors,
      serving: cells.mayHold('server') && cells.text(ENGINE) === 'server' ? servingFigures(cells) : null,
    };
  } catch (error) {
    if (error instanceof BadCell) return undefined;
    throw error;
  }
}

/** A serving cell: null when empty or not a finite decimal (a serving figure never makes the row unreadable). */
function figureAt(cells: CsvCells, slot: number): number | null {
  try {
    return numberAt(cells, slot);
  } catch (error) {
    if (error instanceof BadCell) return null;
    throw error;
  }
}

function servingFigures(cells: CsvCells): ServingFigures {
  const at = (column: (typeof RESULT_FIELDS)[number]) => figureAt(cells, RESULT_FIELDS.indexOf(column));
  const rate = at('load_rate');
  const concurrency = at('load_concurrency');
  return {
    load: rate ?? concurrency,
    loadKind: rate !== null ? 'rate' : concurrency !== null ? 'concurrency' : null,
    tps: at('serving_output_tokens_per_s'),
    ttft: at('serving_ttft_p90_s'),
    tpot: at('serving_tpot_p90_s'),
    epr: at('serving_energy_per_request_j'),
  };
}
