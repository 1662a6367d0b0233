import { COMMA } from './csv-bytes.js';

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
  /**
   * False when the record surely does not hold `marker` (text without commas, quotes or newlines)
   * anywhere, in any column: a test far cheaper than finding a cell far along the record (the
   * record's bytes are searched natively; cells are found by scanning for commas). True when it
   * does, or may (a record with quotes).
   */
  mayHold(marker: string): boolean;
}

const markers = new Map<string, Buffer>();

/** A digit, `.`, `+`, `-`, `e` or `E`. */
const isDecimalCode = (c: number) => (c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69;
/** Digits only, up to 15 of them: summed exactly, as Number() reads them. */
const EXACT_DIGITS = 15;

interface Latin1 {
  latin1Slice(start: number, end: number): string;
}

/**
 * The cells of a record without quotes: byte ranges of the buffer being read, found as they are
 * first asked for (the record is scanned for commas only as far as the furthest cell asked: a
 * reader that needs the first 30 of 130 columns never scans the rest). A cell whose bytes are
 * those of the same slot's last text (a model, a configuration, a suite repeated row after row) is
 * that string again, not a new one.
 */
export class ByteCells implements CsvCells {
  buf: Buffer = Buffer.alloc(0);
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly #last: Array<string | undefined>;
  /** Per column of the record: its slot, or -1; per slot: the (last) column that fills it, or -1. */
  readonly #columnSlot: readonly number[];
  readonly #slotColumn: Int32Array;
  #from = 0;
  #end = 0;
  /** The next column to scan, and where it starts (past #end: the record has no more cells). */
  #column = 0;
  #next = 0;
  /** mayHold's last search: where `text` is next in `buf` at or after `from` (-1: nowhere). */
  readonly #marker = { text: '', bytes: Buffer.alloc(0), buf: Buffer.alloc(0), from: 0, at: -1 };

  constructor(slots: number, columnSlot: readonly number[]) {
    this.starts = new Int32Array(slots);
    this.ends = new Int32Array(slots);
    this.#last = new Array(slots).fill(undefined);
    this.#columnSlot = columnSlot;
    this.#slotColumn = new Int32Array(slots).fill(-1);
    columnSlot.forEach((slot, column) => {
      if (slot >= 0) this.#slotColumn[slot] = column;
    });
  }

  get length(): number {
    return this.starts.length;
  }

  /** The record [from, end) of `buf`, no cell found yet. */
  begin(buf: Buffer, from: number, end: number): void {
    this.buf = buf;
    this.starts.fill(0);
    this.ends.fill(0);
    this.#from = from;
    this.#end = end;
    this.#column = 0;
    this.#next = from;
  }

  /** Scan the record up to the column of `slot` (a slot the file lacks stays empty). */
  #reach(slot: number): void {
    const target = this.#slotColumn[slot]!;
    if (target < this.#column) return;
    const { buf, starts, ends } = this;
    const end = this.#end;
    const columnSlot = this.#columnSlot;
    let column = this.#column;
    let start = this.#next;
    while (column <= target && start <= end) {
      let i = start;
      while (i < end && buf[i] !== COMMA) i++;
      const s = columnSlot[column]!;
      if (s >= 0) {
        starts[s] = start;
        ends[s] = i;
      }
      column++;
      start = i + 1;
    }
    this.#column = start > end ? columnSlot.length : column;
    this.#next = start;
  }

  mayHold(marker: string): boolean {
    const m = this.#marker;
    if (m.text !== marker || m.buf !== this.buf || m.from > this.#from || (m.at >= 0 && m.at < this.#from)) {
      // The next place `marker` is at, searched once per buffer and marker while records pass it:
      // a buffer without it is searched once natively, not once per record.
      let bytes = markers.get(marker);
      if (!bytes) {
        bytes = Buffer.from(marker);
        markers.set(marker, bytes);
      }
      Object.assign(m, {
        text: marker,
        bytes,
        buf: this.buf,
        from: this.#from,
        at: this.buf.indexOf(bytes, this.#from),
      });
    }
    return m.at >= 0 && m.at + m.bytes.length <= this.#end;
  }

  text(slot: number): string {
    this.#reach(slot);
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
    this.#reach(slot);
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

  mayHold(): boolean {
    return true;
  }
}
