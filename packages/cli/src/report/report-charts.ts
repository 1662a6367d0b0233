import { type CellValue, type VaryingFactor, varyingFactors } from '@joules/metrics';
import { type ChartSpec, factorChart, heatmapChart } from './chart-specs.js';
import { distributionCharts, rankingCharts } from './config-charts.js';
import { FACTOR_COLUMNS, type ReportData } from './report-data.js';
import { levelLabel, levelPoints, modelsOf, pooledGroups, shortModel } from './report-stats.js';
import { experimentSpreadChart } from './scatter-specs.js';
import { servingCharts } from './serving-charts.js';

export type { ChartSpec } from './chart-specs.js';

/** Points (level × model) a factor chart may draw per panel before models are pooled. */
const MAX_POINTS = 100;
/** Levels past which a factor is not charted (the table still has it). */
const MAX_LEVELS = 60;
/** Cells a heatmap may draw. */
const MAX_CELLS = 480;

const numericLevels = (levels: readonly CellValue[]) => levels.every((l) => l === null || typeof l === 'number');

function factorCharts(data: ReportData, factors: VaryingFactor[], models: number, notes: string[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  for (const { column, levels } of factors) {
    if (levels.length > MAX_LEVELS) {
      notes.push(`${column} takes ${levels.length} values: not charted by level (see the table of configurations).`);
      continue;
    }
    const byModel = column !== 'model_name' && models >= 2 && levels.length * models <= MAX_POINTS;
    const points = (metric: 'energy_per_token_j' | 'throughput_tokens_per_s') =>
      levelPoints(data.configs, column, levels, metric, byModel);
    charts.push(
      factorChart(
        `factor-${column}`,
        column,
        levels.map(levelLabel),
        points('energy_per_token_j'),
        points('throughput_tokens_per_s'),
        { numeric: numericLevels(levels), byModel },
      ),
    );
  }
  return charts;
}

/** A heatmap over the first two charted factors (model aside) whose grid stays small. */
function gridChart(data: ReportData, factors: VaryingFactor[], models: number): ChartSpec[] {
  const candidates = factors.filter((f) => f.column !== 'model_name' && f.levels.length <= 30);
  const [x, y] = candidates;
  if (!x || !y) return [];
  const cells = x.levels.length * y.levels.length;
  if (cells > MAX_CELLS) return [];
  const byModel = models >= 2 && models <= 8 && cells * models <= MAX_CELLS;
  const values = pooledGroups(data.configs, 'energy_per_token_j', (c) => ({
    model: byModel ? shortModel(c.factors.model_name ?? null) : 'all',
    x: levelLabel(c.factors[x.column] ?? null),
    y: levelLabel(c.factors[y.column] ?? null),
  }));
  return [
    heatmapChart(
      'factor-grid',
      { factor: x.column, labels: x.levels.map(levelLabel) },
      { factor: y.column, labels: y.levels.map(levelLabel) },
      values,
      byModel,
    ),
  ];
}

/**
 * The report's charts, each over aggregated data with a bounded number of marks whatever the
 * number of experiments: per factor level, for serving rows the throughput–latency curves and the
 * Pareto front of J per request against latency, a two-factor grid, the distribution of configurations,
 * the Pareto front, the best and worst configurations, and the spread over cycles (every
 * experiment when the study is small, else the distribution of each configuration's CV).
 * `notes` says what was left out.
 */
export function reportCharts(data: ReportData): { charts: ChartSpec[]; notes: string[] } {
  const notes: string[] = [];
  const models = modelsOf(data.configs);
  const all = varyingFactors(
    data.configs.map((c) => c.factors),
    FACTOR_COLUMNS,
  );
  // The model last: the other factors are drawn per model.
  const factors = [...all.filter((f) => f.column !== 'model_name'), ...all.filter((f) => f.column === 'model_name')];
  const byModel = models.length >= 2 && models.length <= 10;
  const charts = [...factorCharts(data, factors, models.length, notes), ...servingCharts(data.configs, notes)];
  if (!data.configs.some((c) => c.metrics.energy_per_token_j.n > 0)) {
    notes.push('No experiment has an energy per token (no energy backend?): the energy charts are left out.');
    return { charts, notes };
  }
  charts.push(
    ...gridChart(data, factors, models.length),
    ...distributionCharts(data.configs, byModel, data.rows === null),
    ...rankingCharts(data.configs, data.rows === null),
  );
  if (data.rows)
    charts.push(
      experimentSpreadChart(
        'cycle-spread',
        data.rows.map((r) => ({
          config: r.config_name,
          model: shortModel(r.model_name),
          experiment_id: r.experiment_id,
          cycle_id: r.cycle_id,
          energy_per_token_j: r.energy_per_token_j,
        })),
      ),
    );
  return { charts, notes };
}
