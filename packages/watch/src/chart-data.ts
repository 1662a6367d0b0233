import { pooledMoments, type SampleMoments, statisticsOf } from '@joules/metrics/stats';
import { FACTOR_CANDIDATES, isQuantitative, type ParsedResult } from './result-row.js';

/** The factor on the chart's x axis. */
export interface Factor {
  field: string;
  type: 'quantitative' | 'nominal';
}

/**
 * One mark of the chart: J/token of a model at one x, over its rows (cycles, and configurations
 * when `per` is `value`): mean, 95 % interval of the mean (Student t over the rows; null under 2
 * rows), lowest and highest row.
 */
export interface ChartGroup {
  /** Stable id of the mark (model and x): a delta replaces the group of the same key. */
  key: string;
  /** The model's short name (colour). */
  model: string;
  x: string | number;
  /** Rows with a J/token, and the configurations they span. */
  n: number;
  configs: number;
  mean: number;
  ci95_low: number | null;
  ci95_high: number | null;
  min: number;
  max: number;
}

/**
 * The chart's data, bounded whatever the number of rows: one group per model and configuration
 * (x = the factor that tells configurations apart, else the configuration's name); past
 * MAX_CHART_GROUPS, one group per model and value of the factor the suite varies most; failing
 * that, the MAX_CHART_GROUPS configurations of lowest J/token (`omitted`: the others).
 */
export interface ChartData {
  factor: Factor;
  per: 'configuration' | 'value';
  groups: ChartGroup[];
  omitted: number;
}

export const MAX_CHART_GROUPS = 300;

interface ConfigInfo {
  values: Array<string | number | null>;
  mixed: boolean[];
  /** J/token by model. */
  cells: Map<string, Cell>;
}
/** J/token of a model × configuration: its moments (n, mean, Σ (x − mean)², updated one row at a time) and extremes. */
interface Cell extends SampleMoments {
  model: string;
  config: string;
  min: number;
  max: number;
}

const shortName = (m: string) => m.split('/').at(-1) ?? m;
/** 6 significant digits: an interval's bounds need no more (and the status stays small). */
const sig6 = (v: number | null) => (v === null ? null : Number(v.toPrecision(6)));
const CONFIG_FACTOR: Factor = { field: 'config_name', type: 'nominal' };

/** Per configuration and per model × configuration aggregates of the result rows, added one at a time. */
export class ChartAggregates {
  readonly #configs = new Map<string, ConfigInfo>();
  #cached: ChartData | undefined;

  add(row: ParsedResult): void {
    this.#cached = undefined;
    let info = this.#configs.get(row.config);
    if (!info) {
      info = { values: [...row.factors], mixed: row.factors.map(() => false), cells: new Map() };
      this.#configs.set(row.config, info);
    } else for (let i = 0; i < row.factors.length; i++) if (info.values[i] !== row.factors[i]) info.mixed[i] = true;
    if (row.perToken === null) return;
    const v = row.perToken;
    const cell = info.cells.get(row.model);
    if (!cell)
      info.cells.set(row.model, { model: row.model, config: row.config, n: 1, mean: v, squares: 0, min: v, max: v });
    else {
      // Welford's update: the mean and Σ (x − mean)² without keeping the rows.
      cell.n++;
      const delta = v - cell.mean;
      cell.mean += delta / cell.n;
      cell.squares += delta * (v - cell.mean);
      cell.min = Math.min(cell.min, v);
      cell.max = Math.max(cell.max, v);
    }
  }

  /** A configuration's value of the factor `field` (its name for config_name); null when unknown. */
  factorValue(config: string, field: string): string | number | null {
    const i = (FACTOR_CANDIDATES as readonly string[]).indexOf(field);
    return i < 0 ? config : (this.#configs.get(config)?.values[i] ?? null);
  }

  chart(): ChartData {
    this.#cached ??= this.#build();
    return this.#cached;
  }

  #build(): ChartData {
    const distinct = FACTOR_CANDIDATES.map((_, i) => this.#distinctValues(i));
    const cells = [...this.#configs.values()].flatMap((info) => [...info.cells.values()]);
    if (cells.length <= MAX_CHART_GROUPS) {
      const i = this.#configs.size > 1 ? distinct.indexOf(this.#configs.size) : -1;
      return {
        factor: i >= 0 ? factorOf(i) : CONFIG_FACTOR,
        per: 'configuration',
        groups: cells.map((c) => this.#group(c, i)),
        omitted: 0,
      };
    }
    const models = new Set(cells.map((c) => c.model)).size;
    let best = -1;
    distinct.forEach((d, i) => {
      if (d >= 2 && d * models <= MAX_CHART_GROUPS && d > (distinct[best] ?? 0)) best = i;
    });
    if (best >= 0) return { factor: factorOf(best), per: 'value', groups: this.#byValue(cells, best), omitted: 0 };
    const lowest = cells.sort((a, b) => a.mean - b.mean).slice(0, MAX_CHART_GROUPS);
    return {
      factor: CONFIG_FACTOR,
      per: 'configuration',
      groups: lowest.map((c) => this.#group(c, -1)),
      omitted: cells.length - lowest.length,
    };
  }

  /** How many values candidate `i` takes, when it is set in every configuration and one value within each; else 0. */
  #distinctValues(i: number): number {
    const values = new Set<string>();
    for (const info of this.#configs.values()) {
      const v = info.values[i];
      if (info.mixed[i] || v === null || v === undefined) return 0;
      values.add(String(v));
    }
    return values.size;
  }

  #group(c: Cell, factor: number): ChartGroup {
    const x = factor >= 0 ? (this.#configs.get(c.config)?.values[factor] ?? c.config) : c.config;
    return groupOf(c.model, x, 1, c, c.min, c.max);
  }

  #byValue(cells: readonly Cell[], factor: number): ChartGroup[] {
    const out = new Map<string, { model: string; x: string | number; cells: Cell[] }>();
    for (const c of cells) {
      const x = this.#configs.get(c.config)?.values[factor] ?? c.config;
      const key = `${c.model}\n${x}`;
      const g = out.get(key);
      if (!g) out.set(key, { model: c.model, x, cells: [c] });
      else g.cells.push(c);
    }
    return [...out.values()].map((g) => {
      const min = g.cells.reduce((lo, c) => Math.min(lo, c.min), Number.POSITIVE_INFINITY);
      const max = g.cells.reduce((hi, c) => Math.max(hi, c.max), Number.NEGATIVE_INFINITY);
      return groupOf(g.model, g.x, g.cells.length, pooledMoments(g.cells), min, max);
    });
  }
}

/** A chart group from its rows' moments: the mean and its 95 % interval (statisticsOf: Student t). */
function groupOf(
  model: string,
  x: string | number,
  configs: number,
  m: SampleMoments,
  min: number,
  max: number,
): ChartGroup {
  const s = statisticsOf(m.n, m.mean, m.squares);
  return {
    key: `${model}\n${x}`,
    model: shortName(model),
    x,
    n: m.n,
    configs,
    mean: m.mean,
    ci95_low: sig6(s.ci95_low),
    ci95_high: sig6(s.ci95_high),
    min,
    max,
  };
}

function factorOf(i: number): Factor {
  const field = FACTOR_CANDIDATES[i]!;
  return { field, type: isQuantitative(field) ? 'quantitative' : 'nominal' };
}
