import type { ResultRow } from './result-row.js';

const orNaN = (v: number | null) => (v === null ? Number.NaN : v);
const orNull = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? null : v);

/**
 * Result rows kept column by column (numbers unboxed, names shared): about 60 bytes a row where
 * objects take about 200; 100,000 rows in ~6 MB. Rows are appended, read back by index.
 */
export class ResultStore {
  readonly #ids: string[] = [];
  readonly #suites: Array<string | null> = [];
  readonly #models: string[] = [];
  readonly #configs: string[] = [];
  readonly #cycles: number[] = [];
  readonly #perToken: number[] = [];
  readonly #totalJ: number[] = [];
  readonly #seconds: number[] = [];

  get length(): number {
    return this.#ids.length;
  }

  push(r: ResultRow): void {
    this.#ids.push(r.id);
    this.#suites.push(r.suite);
    this.#models.push(r.model);
    this.#configs.push(r.config);
    this.#cycles.push(orNaN(r.cycle));
    this.#perToken.push(orNaN(r.perToken));
    this.#totalJ.push(orNaN(r.totalJ));
    this.#seconds.push(orNaN(r.seconds));
  }

  get(i: number): ResultRow {
    return {
      id: this.#ids[i]!,
      suite: this.#suites[i] ?? null,
      model: this.#models[i]!,
      config: this.#configs[i]!,
      cycle: orNull(this.#cycles[i]),
      perToken: orNull(this.#perToken[i]),
      totalJ: orNull(this.#totalJ[i]),
      seconds: orNull(this.#seconds[i]),
    };
  }

  /** Rows [from, to), as Array.prototype.slice reads its arguments (negative: from the end). */
  slice(from: number, to = this.length): ResultRow[] {
    const n = this.length;
    const lo = Math.max(0, from < 0 ? n + from : Math.min(from, n));
    const hi = Math.max(lo, to < 0 ? n + to : Math.min(to, n));
    const out: ResultRow[] = [];
    for (let i = lo; i < hi; i++) out.push(this.get(i));
    return out;
  }

  *[Symbol.iterator](): IterableIterator<ResultRow> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}
