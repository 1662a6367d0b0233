/**
 * One record as CsvTail hands it to a visitor: its cells by slot (the `columns` asked for, in that
 * order), each decoded only when asked. Valid only during the call: keep what it returns, not it.
 */
export interface CsvCells {
  /** Slots: the columns asked for (else the header's). */
  readonly length: number;
  /** The cell's text ('' when the record lacks it). */
  text(slot: number): string;
  /**
   * The cell as `Number(text)` reads it (NaN or ±Infinity included) when it is made only of ASCII
   * digits, signs, points and exponent letters; undefined when it is empty or holds anything else
   * (read its text then). A number is read without a string made for it where it can be.
   */
  decimal(slot: number): number | undefined;
  /** Every cell's text. */
  toArray(): string[];
}

/** A digit, `.`, `+`, `-`, `e` or `E`. */
const isDecimalCode = (c: number) => (c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69;
/** Digits only, up to 15 of them: summed exactly, as Number() reads them. */
const EXACT_DIGITS = 15;

interface Latin1 {
  latin1Slice(start: number, end: number): string;
}

/**
 * The cells of a record without quotes: byte ranges of the buffer being read. A cell whose bytes
 * are those of the same slot's last text (a model, a configuration, a suite repeated row after
 * row) is that string again, not a new one.
 */
export class ByteCells implements CsvCells {
  buf: Buffer = Buffer.alloc(0);
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly #last: Array<string | undefined>;

  constructor(slots: number) {
    this.starts = new Int32Array(slots);
    this.ends = new Int32Array(slots);
    this.#last = new Array(slots).fill(undefined);
  }

  get length(): number {
    return this.starts.length;
  }

  /** No cell yet (the record lacks those not set after this). */
  clear(): void {
    this.starts.fill(0);
    this.ends.fill(0);
  }

  text(slot: number): string {
    const a = this.starts[slot]!;
    const b = this.ends[slot]!;
    if (a === b) return '';
    const buf = this.buf;
    const last = this.#last[slot];
    if (last !== undefined && last.length === b - a) {
      let i = 0;
      // An ASCII byte equal to each code unit: the same text.
      while (i < last.length && buf[a + i]! < 0x80 && buf[a + i] === last.charCodeAt(i)) i++;
      if (i === last.length) return last;
    }
    const text = buf.toString('utf8', a, b);
    this.#last[slot] = text;
    return text;
  }

  decimal(slot: number): number | undefined {
    const a = this.starts[slot]!;
    const b = this.ends[slot]!;
    if (a === b) return undefined;
    const buf = this.buf;
    let digits = true;
    for (let i = a; i < b; i++) {
      const c = buf[i]!;
      if (c >= 48 && c <= 57) continue;
      if (!isDecimalCode(c)) return undefined;
      digits = false;
    }
    if (digits && b - a <= EXACT_DIGITS) {
      let n = 0;
      for (let i = a; i < b; i++) n = n * 10 + (buf[i]! - 48);
      return n;
    }
    // ASCII only: latin1 is its UTF-8 text.
    return Number((buf as unknown as Latin1).latin1Slice(a, b));
  }

  toArray(): string[] {
    return Array.from({ length: this.length }, (_, slot) => this.text(slot));
  }
}

/** The cells of a record parsed whole (the header's columns, or one with quotes). */
export class TextCells implements CsvCells {
  readonly #cells: readonly string[];

  constructor(cells: readonly string[]) {
    this.#cells = cells;
  }

  get length(): number {
    return this.#cells.length;
  }

  text(slot: number): string {
    return this.#cells[slot] ?? '';
  }

  decimal(slot: number): number | undefined {
    const text = this.text(slot);
    if (text === '') return undefined;
    for (let i = 0; i < text.length; i++) if (!isDecimalCode(text.charCodeAt(i))) return undefined;
    return Number(text);
  }

  toArray(): string[] {
    return [...this.#cells];
  }
}
