/** One chart of the report: a vega-lite spec over small, already aggregated data. */
export interface ChartSpec {
  id: string;
  title: string;
  spec: Record<string, unknown>;
}

type Values = readonly Record<string, unknown>[];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The top of a spec: title, subtitle and the named datasets its views read. */
const top = (title: string, subtitle: string, datasets: Record<string, Values>) => ({
  $schema: SCHEMA,
  title: { text: title, subtitle, anchor: 'start' },
  datasets,
});

const colorBy = (byModel: boolean) =>
  byModel ? { color: { field: 'model', type: 'nominal', title: 'model' } } : { color: { value: '#4c78a8' } };

const tooltipOf = (fields: string[]) => fields.map((field) => ({ field }));

/** A panel of means per factor level with 95 % CI rules, one colour per model (lines when the factor is numeric). */
function levelPanel(
  data: string,
  factor: string,
  labels: string[],
  yTitle: string,
  numeric: boolean,
  byModel: boolean,
) {
  const x = { field: 'level', type: 'ordinal', sort: labels, title: factor, axis: { labelAngle: 0 } };
  const y = { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } };
  const offset = byModel && !numeric ? { xOffset: { field: 'model', type: 'nominal' } } : {};
  return {
    width: 300,
    height: 220,
    data: { name: data },
    encoding: { x, ...offset, ...colorBy(byModel) },
    layer: [
      { mark: 'rule', encoding: { y: { ...y, field: 'low' }, y2: { field: 'high' } } },
      {
        mark: numeric ? { type: 'line', point: true } : { type: 'point', filled: true, size: 50 },
        encoding: { y, tooltip: tooltipOf(['model', 'level', 'n', 'mean', 'low', 'high']) },
      },
    ],
  };
}

/** J/token and throughput against one factor's levels, side by side. */
export function factorChart(
  id: string,
  factor: string,
  labels: string[],
  energy: Values,
  throughput: Values,
  opts: { numeric: boolean; byModel: boolean },
): ChartSpec {
  const title = `Energy per token and throughput by ${factor}`;
  const who = opts.byModel ? ' (per model)' : factor === 'model_name' ? '' : ' (all models together)';
  return {
    id,
    title,
    spec: {
      ...top(title, `mean over the experiments at each level${who}, bars: 95 % CI (Student t)`, {
        [`${id}-energy`]: energy,
        [`${id}-throughput`]: throughput,
      }),
      hconcat: [
        levelPanel(`${id}-energy`, factor, labels, 'J per generated token', opts.numeric, opts.byModel),
        levelPanel(`${id}-throughput`, factor, labels, 'generated tokens / s', opts.numeric, opts.byModel),
      ],
    },
  };
}

/** Mean J/token over two factors' levels as a heatmap, one panel per model. */
export function heatmapChart(
  id: string,
  x: { factor: string; labels: string[] },
  y: { factor: string; labels: string[] },
  cells: Values,
  byModel: boolean,
): ChartSpec {
  const title = `Energy per token by ${x.factor} and ${y.factor}`;
  const inner = {
    width: 220,
    height: 160,
    mark: 'rect',
    encoding: {
      x: { field: 'x', type: 'ordinal', sort: x.labels, title: x.factor, axis: { labelAngle: 0 } },
      y: { field: 'y', type: 'ordinal', sort: y.labels, title: y.factor },
      color: { field: 'mean', type: 'quantitative', title: 'J/token', scale: { scheme: 'viridis' } },
      tooltip: tooltipOf(['model', 'x', 'y', 'n', 'mean']),
    },
  };
  const subtitle = `mean J per generated token over the experiments in each cell${byModel ? ', one panel per model' : ''}`;
  return {
    id,
    title,
    spec: {
      ...top(title, subtitle, { [id]: cells }),
      data: { name: id },
      ...(byModel ? { facet: { field: 'model', type: 'nominal', title: null }, columns: 2, spec: inner } : inner),
    },
  };
}

/** Counts in precomputed bins (x0, x1, count), stacked by model. */
export function histogramChart(
  id: string,
  title: string,
  subtitle: string,
  bins: Values,
  xTitle: string,
  byModel: boolean,
): ChartSpec {
  return {
    id,
    title,
    spec: {
      ...top(title, subtitle, { [id]: bins }),
      width: 620,
      height: 220,
      data: { name: id },
      mark: 'bar',
      encoding: {
        x: { field: 'x0', type: 'quantitative', bin: { binned: true }, title: xTitle },
        x2: { field: 'x1' },
        y: { field: 'count', type: 'quantitative', stack: true, title: 'configurations' },
        ...colorBy(byModel),
        tooltip: tooltipOf(['model', 'x0', 'x1', 'count']),
      },
    },
  };
}

/** Labelled configurations in the given order: a point each, with its 95 % CI when the rows have low/high. */
export function rankingChart(
  id: string,
  title: string,
  subtitle: string,
  rows: Values,
  xTitle: string,
  interval: boolean,
): ChartSpec {
  const x = { field: 'value', type: 'quantitative', title: xTitle, scale: { zero: false } };
  const point = {
    mark: { type: 'point', filled: true, size: 60 },
    encoding: { x, tooltip: tooltipOf(['label', 'detail', 'n', 'value', 'low', 'high']) },
  };
  return {
    id,
    title,
    spec: {
      ...top(title, subtitle, { [id]: rows }),
      width: 460,
      data: { name: id },
      encoding: {
        y: { field: 'label', type: 'nominal', sort: null, title: null },
        color: { field: 'model', type: 'nominal', title: 'model' },
      },
      layer: interval
        ? [{ mark: 'rule', encoding: { x: { ...x, field: 'low' }, x2: { field: 'high' } } }, point]
        : [point],
    },
  };
}
