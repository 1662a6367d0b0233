const COLON = 58;
/** Up to 15 digits: summed exactly, as Number() reads them. */
const EXACT_DIGITS = 15;

/**
 * Values by a journal key's prefix `model::suite::config`, shared by the keys of its cycles: a
 * key is found by its prefix and its cycle read from its end, never split into parts again. Only
 * keys `<prefix>::<cycle>` (cycle a whole number or nothing, as parseProgressKey reads them) are
 * found; any other misses (the caller parses it whole).
 */
export class KeyPrefixes<T> {
  readonly #values = new Map<string, T>();
  /** The cycle of the key the last `find` found (-1 for none). */
  cycle = -1;

  find(key: string): T | undefined {
    const at = this.#separator(key);
    if (at < 0) return undefined;
    const value = this.#values.get(key.slice(0, at));
    if (value === undefined) return undefined;
    let cycle = key.length === at + 2 ? -1 : 0;
    for (let i = at + 2; i < key.length; i++) cycle = cycle * 10 + (key.charCodeAt(i) - 48);
    this.cycle = cycle;
    return value;
  }

  /** Remember `value` for the prefix of `key`: call it only for a key parseProgressKey reads. */
  set(key: string, value: T): void {
    const at = this.#separator(key);
    if (at >= 0) this.#values.set(key.slice(0, at), value);
  }

  /** Where the `::` before the cycle starts; -1 when the key does not end in `::` and a short whole number (or nothing). */
  #separator(key: string): number {
    const at = key.lastIndexOf('::');
    // `:::` splits differently from the left: left to parseProgressKey.
    if (at <= 0 || key.charCodeAt(at - 1) === COLON || key.length - at - 2 > EXACT_DIGITS) return -1;
    for (let i = at + 2; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c < 48 || c > 57) return -1;
    }
    return at;
  }
}
