import type { ResultColumn } from '@joules/metrics';

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
] as const satisfies readonly ResultColumn[];

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
}

/** Is a candidate factor a number (quantitative on a chart)? */
export const isQuantitative = (field: string) => !NOMINAL.has(field);
const QUANTITATIVE = FACTOR_CANDIDATES.map(isQuantitative);
const FIRST_FACTOR = RESULT_FIELDS.indexOf(FACTOR_CANDIDATES[0]);

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
export function toResultRow(cells: readonly string[], names: Interner): ParsedResult | undefined {
  try {
    const id = cells[0];
    const config = cells[1];
    const model = cells[2];
    if (!id || !config || !model) return undefined;
    const suite = cells[3];
    const factors: Array<string | number | null> = [];
    for (let i = 0; i < FACTOR_CANDIDATES.length; i++) {
      const cell = cells[FIRST_FACTOR + i] ?? '';
      factors.push(QUANTITATIVE[i] ? number(cell) : cell === '' ? null : names.get(cell));
    }
    return {
      id,
      suite: suite ? names.get(suite) : null,
      model: names.get(model),
      config: names.get(config),
      cycle: number(cells[4] ?? ''),
      seconds: number(cells[5] ?? ''),
      totalJ: number(cells[6] ?? ''),
      perToken: number(cells[7] ?? ''),
      factors,
    };
  } catch (error) {
    if (error instanceof BadCell) return undefined;
    throw error;
  }
}
