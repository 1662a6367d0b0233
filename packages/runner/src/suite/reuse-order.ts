/**
 * The run order under model reuse: within each cycle, the experiments of one load-settings key
 * (one model load) become consecutive, keys in the order they first appear in that cycle, each
 * key's experiments in the order they had (the suite's seeded per-cycle shuffle, restricted to
 * that model). Cycles stay in order: each cycle loads each model once.
 */
export function reuseOrder<T>(items: readonly T[], cycleOf: (item: T) => number, keyOf: (item: T) => string): T[] {
  const out: T[] = [];
  let i = 0;
  while (i < items.length) {
    const cycle = cycleOf(items[i]!);
    const groups = new Map<string, T[]>();
    for (; i < items.length && cycleOf(items[i]!) === cycle; i++) {
      const key = keyOf(items[i]!);
      const group = groups.get(key);
      if (group) group.push(items[i]!);
      else groups.set(key, [items[i]!]);
    }
    for (const group of groups.values()) out.push(...group);
  }
  return out;
}
