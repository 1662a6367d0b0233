/**
 * The serving charts of the watch page (vega-lite; the data is the named dataset `serving`: the
 * status's ServingPoints, the page keeps it up to date from the deltas). Left: output tokens/s
 * against p90 TTFT, a line per model · server setting in the order of load, its saturation point
 * (peak throughput) ringed. Right: J per request against p90 TTFT, every configuration hollow, a
 * line through each setting's Pareto front. Bars: 95 % intervals over cycles (Student t).
 */
const color = {
  field: 'series',
  type: 'nominal',
  title: 'model · server setting',
  legend: { orient: 'bottom', direction: 'vertical', labelLimit: 600 },
};
const q = (field: string, title: string) => ({ field, type: 'quantitative', title, scale: { zero: false } });
const TTFT = q('ttft', 'p90 time to first token (ms)');
const TPS = q('tps', 'output tokens / s');
const EPR = q('epr', 'J per request');
const TOOLTIP = [
  'series',
  'config',
  'load',
  'n',
  'tps',
  'tps_low',
  'tps_high',
  'ttft',
  'tpot',
  'epr',
  'epr_low',
  'epr_high',
];

/** A point per configuration with its 95 % intervals as rules on both axes (only where there is one). */
function withIntervals(y: typeof TPS, filled: boolean): Record<string, unknown>[] {
  const valid = (f: string) => ({ filter: `isValid(datum.${f}_low) && isValid(datum.${f}_high)` });
  return [
    {
      transform: [valid(y.field)],
      mark: { type: 'rule', opacity: 0.6 },
      encoding: { x: TTFT, y: { ...y, field: `${y.field}_low` }, y2: { field: `${y.field}_high` }, color },
    },
    {
      transform: [valid('ttft')],
      mark: { type: 'rule', opacity: 0.6 },
      encoding: { y, x: { ...TTFT, field: 'ttft_low' }, x2: { field: 'ttft_high' }, color },
    },
    {
      mark: { type: 'point', filled, size: 50 },
      encoding: { x: TTFT, y, color, tooltip: TOOLTIP.map((field) => ({ field })) },
    },
  ];
}

const ring = (text: boolean) => ({
  transform: [{ filter: 'datum.saturation' }],
  mark: text
    ? { type: 'text', dy: -14, fontSize: 11, color: '#222' }
    : { type: 'point', shape: 'circle', size: 260, strokeWidth: 2, color: '#222', filled: false },
  encoding: {
    x: { field: 'ttft', type: 'quantitative' },
    y: { field: 'tps', type: 'quantitative' },
    ...(text && { text: { value: 'saturation' } }),
  },
});

export function servingChartSpec(): Record<string, unknown> {
  const panel = (layer: Record<string, unknown>[], title: string) => ({
    width: 340,
    height: 260,
    title,
    data: { name: 'serving' },
    layer,
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Serving: throughput, latency and energy per request',
      subtitle:
        'mean over cycles per configuration; bars: 95 % interval (Student t); ringed: saturation (peak throughput); right, line: the Pareto front (lower is better on both)',
      anchor: 'start',
    },
    hconcat: [
      panel(
        [
          { mark: { type: 'line', opacity: 0.8 }, encoding: { x: TTFT, y: TPS, order: { field: 'load' }, color } },
          ...withIntervals(TPS, true),
          ring(false),
          ring(true),
        ],
        'Throughput against latency, by load',
      ),
      panel(
        [
          ...withIntervals(EPR, false),
          {
            transform: [{ filter: 'datum.front' }],
            mark: { type: 'line', point: { filled: true, size: 60 }, strokeWidth: 2 },
            encoding: { x: TTFT, y: EPR, order: { field: 'ttft' }, color },
          },
        ],
        'Energy per request against latency: the Pareto front',
      ),
    ],
    resolve: { scale: { color: 'shared' } },
  };
}
