// P-metrics: per-config cycle statistics over 100,000 experiment records (goal: under 1 s).
// Records are results-table rows made by toResultRecord (every column): 20,000 configs × 5 cycles,
// with seeded random values; building them is not timed. Measured:
//   A  cycleStatistics over typed records (n, mean, std, CV, 95 % CI for every metric column)
//   B  the same after parseResultRecord of the CSV strings (what reading the results CSV adds)
//   C  summarizeResults by model (mean of cycles per model, 50 models)
// Uses the BUILT package: `npx tsc -b packages/metrics` first.
import { cycleStatistics, METRIC_COLUMNS, parseResultRecord, summarizeResults, toResultRecord } from '@joules/metrics';

export const title = 'P-metrics cycle statistics (100k records)';
const RECORDS = 100_000;
const CYCLES = 5;
const RUNS = 5;

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRecords() {
  const random = mulberry32(42);
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    const config = Math.floor(i / CYCLES);
    const metrics = {};
    for (const c of METRIC_COLUMNS) metrics[c] = random() < 0.05 ? null : (1 + (config % 97)) * (0.9 + 0.2 * random());
    Object.assign(metrics, {
      energy_backend: 'nvml',
      energy_estimated: false,
      flops_method: 'analytic',
      flops_quantized: false,
      peak_memory_kind: 'cuda_max_allocated',
      throttling_observed: false,
    });
    const id = {
      experiment_id: String(i + 1).padStart(6, '0'),
      config_name: `config-${config}`,
      model_name: `model-${config % 50}`,
      suite: 'bench',
      cycle_id: (i % CYCLES) + 1,
      task_type: 'text_generation',
      num_processes: 1 + (config % 4),
      batch_size: 8,
      precision: 'fp16',
      config_hash: `h${config.toString(16).padStart(8, '0')}`,
    };
    records.push(toResultRecord(id, metrics)); // rows as the tracker writes them
  }
  return records;
}

/** Wall seconds, the result, and the process's CPU seconds (steadier than wall time on a busy machine). */
const time = (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  const c = process.cpuUsage(c0);
  return [(performance.now() - t0) / 1000, out, (c.user + c.system) / 1e6];
};

export async function run() {
  const records = makeRecords();
  const csvRows = records.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)])),
  );
  const A = [],
    Acpu = [],
    B = [],
    C = [];
  // One measure at a time, so that one's garbage is not collected during another's runs.
  for (let i = 0; i < RUNS; i++) {
    const [a, stats, cpu] = time(() => cycleStatistics(records));
    if (stats.length !== RECORDS / CYCLES || stats[0].n !== CYCLES)
      throw new Error(`unexpected groups: ${stats.length}`);
    A.push(a);
    Acpu.push(cpu);
  }
  for (let i = 0; i < RUNS; i++) {
    const [c, table] = time(() => summarizeResults(records, { by: ['model_name'], stats: ['mean'] }));
    if (table.rows.length !== 50) throw new Error(`unexpected models: ${table.rows.length}`);
    C.push(c);
  }
  for (let i = 0; i < RUNS; i++) B.push(time(() => cycleStatistics(csvRows.map(parseResultRecord)))[0]);
  return [
    {
      name: `cycleStatistics, ${RECORDS} records × ${METRIC_COLUMNS.length} metrics → ${RECORDS / CYCLES} configs`,
      unit: 's',
      samples: A,
      goal: '< 1 s',
    },
    { name: 'the same, CPU time of the process (all threads, GC included)', unit: 's', samples: Acpu },
    { name: 'parseResultRecord (CSV strings) + cycleStatistics', unit: 's', samples: B },
    { name: 'summarizeResults by model (mean of cycles)', unit: 's', samples: C },
  ];
}
