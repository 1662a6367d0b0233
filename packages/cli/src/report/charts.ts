import type { ResultRecord } from '@joules/metrics';

/** One chart of the report: a vega-lite spec over the result rows, and what its marks are. */
export interface ChartSpec {
  id: string;
  title: string;
  spec: Record<string, unknown>;
}

const base = (title: string, description: string) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, subtitle: description },
  width: 520,
  height: 300,
});

/** The report's charts. Values are the rows themselves; aggregation happens in vega-lite. */
export function reportCharts(rows: readonly ResultRecord[]): ChartSpec[] {
  const values = rows.map((r) => ({ ...r, model: String(r.model_name).split('/').at(-1) }));
  return [
    {
      id: 'energy-per-token-vs-batch',
      title: 'Energy per token against batch size',
      spec: {
        ...base('Energy per token against batch size', 'mean over cycles, one line per model'),
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'batch_size', type: 'quantitative', title: 'batch size' },
          y: { aggregate: 'mean', field: 'energy_per_token_j', type: 'quantitative', title: 'J per generated token' },
          color: { field: 'model', type: 'nominal' },
        },
      },
    },
    {
      id: 'throughput-vs-precision',
      title: 'Throughput against precision',
      spec: {
        ...base('Throughput against precision', 'mean over cycles, per model'),
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'precision', type: 'nominal' },
          xOffset: { field: 'model', type: 'nominal' },
          y: {
            aggregate: 'mean',
            field: 'throughput_tokens_per_s',
            type: 'quantitative',
            title: 'generated tokens / s',
          },
          color: { field: 'model', type: 'nominal' },
        },
      },
    },
    {
      id: 'cycle-spread',
      title: 'Spread over cycles',
      spec: {
        ...base('Spread over cycles', 'every experiment, one row per configuration'),
        data: { values },
        mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: {
          y: { field: 'config_name', type: 'nominal', title: 'configuration' },
          x: { field: 'energy_per_token_j', type: 'quantitative', title: 'J per generated token' },
          color: { field: 'model', type: 'nominal' },
          tooltip: [{ field: 'experiment_id' }, { field: 'cycle_id' }, { field: 'energy_per_token_j' }],
        },
      },
    },
  ];
}
