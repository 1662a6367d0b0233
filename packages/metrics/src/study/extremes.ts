/**
 * The `count` items with the lowest and the highest `value` (items whose value is null or not
 * finite are left out), each list ordered from the extreme inwards: `lowest[0]` is the minimum,
 * `highest[0]` the maximum. Ties keep the items' order. The two lists overlap when there are fewer
 * than 2 × count items.
 */
export function extremes<T>(
  items: readonly T[],
  value: (item: T) => number | null,
  count: number,
): { lowest: T[]; highest: T[] } {
  const scored: Array<{ item: T; v: number; i: number }> = [];
  items.forEach((item, i) => {
    const v = value(item);
    if (v !== null && Number.isFinite(v)) scored.push({ item, v, i });
  });
  const ascending = [...scored].sort((a, b) => a.v - b.v || a.i - b.i);
  const descending = [...scored].sort((a, b) => b.v - a.v || a.i - b.i);
  return {
    lowest: ascending.slice(0, count).map((s) => s.item),
    highest: descending.slice(0, count).map((s) => s.item),
  };
}

/**
 * The indices of the points no other point dominates, when `x` is to be minimised and `y`
 * maximised (e.g. J/token against throughput), ordered by x ascending. A point dominates another
 * when it is no worse on both and better on one; of equal points the first is kept. Points with a
 * non-finite coordinate are left out.
 */
export function paretoFront(points: readonly { x: number | null; y: number | null }[]): number[] {
  const candidates: number[] = [];
  points.forEach((p, i) => {
    if (p.x !== null && p.y !== null && Number.isFinite(p.x) && Number.isFinite(p.y)) candidates.push(i);
  });
  const at = (i: number) => points[i] as { x: number; y: number };
  // By x ascending, then y descending: a point is on the front iff its y beats every y before it.
  candidates.sort((a, b) => at(a).x - at(b).x || at(b).y - at(a).y || a - b);
  const front: number[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (const i of candidates) {
    if (at(i).y > best) {
      front.push(i);
      best = at(i).y;
    }
  }
  return front;
}
