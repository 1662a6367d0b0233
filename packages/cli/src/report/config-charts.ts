import { extentOf, extremes, histogram } from '@joules/metrics';
import { type ChartSpec, histogramChart, rankingChart } from './chart-specs.js';
import { pareto } from './pareto.js';
import type { ConfigSummary } from './report-data.js';
import { configDetail, configLabel, meanOf, round4, shortModel, statsOf } from './report-stats.js';

/** Configurations shown at each end of a ranking. */
export const RANKED = 15;
const BINS = 30;

const cvPercent = (c: ConfigSummary): number | null => {
  const cv = statsOf(c.metrics.energy_per_token_j).cv;
  return cv === null ? null : cv * 100;
};

/** Bins of `value` over the configurations, stacked by model on shared bins; empty bins left out. */
function binsByModel(configs: readonly ConfigSummary[], value: (c: ConfigSummary) => number | null, byModel: boolean) {
  const extent = extentOf(configs.map(value));
  const groups = new Map<string, (number | null)[]>();
  for (const c of configs) {
    const model = byModel ? shortModel(c.factors.model_name ?? null) : 'all';
    const values = groups.get(model);
    if (values) values.push(value(c));
    else groups.set(model, [value(c)]);
  }
  return [...groups].flatMap(([model, values]) =>
    histogram(values, { bins: BINS, extent })
      .filter((b) => b.count > 0)
      .map((b) => ({ model, x0: round4(b.x0), x1: round4(b.x1), count: b.count })),
  );
}

/** The distribution of the configurations' J/token, the Pareto front, and (large studies) of their CV. */
export function distributionCharts(configs: readonly ConfigSummary[], byModel: boolean, withCv: boolean): ChartSpec[] {
  const who = byModel ? ', stacked by model' : '';
  const charts = [
    histogramChart(
      'energy-per-token-distribution',
      'Energy per token across configurations',
      `configurations by their mean J per generated token over cycles${who}`,
      binsByModel(configs, (c) => meanOf(c, 'energy_per_token_j'), byModel),
      'J per generated token (mean over cycles)',
      byModel,
    ),
    pareto(configs),
  ];
  if (withCv)
    charts.push(
      histogramChart(
        'cycle-spread',
        'Spread over cycles',
        `configurations by the coefficient of variation of J/token over their cycles${who}`,
        binsByModel(configs, cvPercent, byModel),
        'CV of J per generated token over cycles (%)',
        byModel,
      ),
    );
  return charts;
}

/** Labels made unique (two configurations may share model and name across suites). */
function labelled(configs: readonly ConfigSummary[]): Map<ConfigSummary, string> {
  const seen = new Map<string, number>();
  const out = new Map<ConfigSummary, string>();
  for (const c of configs) {
    const label = configLabel(c);
    const k = (seen.get(label) ?? 0) + 1;
    seen.set(label, k);
    out.set(c, k === 1 ? label : `${label} (${k})`);
  }
  return out;
}

/** The best and worst configurations by J/token (with CIs), and (large studies) the most variable. */
export function rankingCharts(configs: readonly ConfigSummary[], withCv: boolean): ChartSpec[] {
  const labels = labelled(configs);
  const row = (c: ConfigSummary) => {
    const s = statsOf(c.metrics.energy_per_token_j);
    const base = {
      label: labels.get(c)!,
      detail: configDetail(c),
      model: shortModel(c.factors.model_name ?? null),
      n: s.n,
    };
    return { ...base, value: round4(s.mean), low: round4(s.ci95_low ?? s.mean), high: round4(s.ci95_high ?? s.mean) };
  };
  const few = configs.length <= 2 * RANKED;
  const { lowest, highest } = extremes(configs, (c) => meanOf(c, 'energy_per_token_j'), few ? configs.length : RANKED);
  const axis = 'J per generated token (mean, 95 % CI)';
  const charts = few
    ? [
        rankingChart(
          'best-configurations',
          'Configurations by energy per token',
          'lowest first',
          lowest.map(row),
          axis,
          true,
        ),
      ]
    : [
        rankingChart(
          'best-configurations',
          `The ${RANKED} most efficient configurations`,
          'lowest J/token first',
          lowest.map(row),
          axis,
          true,
        ),
        rankingChart(
          'worst-configurations',
          `The ${RANKED} least efficient configurations`,
          'highest J/token first',
          highest.map(row),
          axis,
          true,
        ),
      ];
  if (withCv) {
    const variable = extremes(configs, cvPercent, RANKED).highest;
    const rows = variable.map((c) => ({ ...row(c), value: round4(cvPercent(c)) }));
    charts.push(
      rankingChart(
        'most-variable',
        `The ${RANKED} most variable configurations`,
        'highest CV of J/token over cycles first',
        rows,
        'CV of J per generated token over cycles (%)',
        false,
      ),
    );
  }
  return charts;
}
