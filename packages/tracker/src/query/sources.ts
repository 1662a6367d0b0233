import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { resultsLayout } from '../layout.js';

/** Columns read as text whatever they look like ("000042" must stay "000042"). */
const TEXT_COLUMNS = [
  'experiment_id',
  'config_hash',
  'effective_config_hash',
  'config_name',
  'model_name',
  'suite',
  'error_message',
  'config_json',
];

/** Raw JSON documents → view names. */
export const RAW_VIEWS: Record<string, string> = {
  experiment_setup: '*_1_experiment_setup.json',
  experiment_variables: '*_2_experiment_variables.json',
  model_architecture: '*_3_model_architecture.json',
  inference_metrics: '*_4_inference_metrics.json',
  compute_metrics: '*_5_compute_metrics.json',
  local_energy: '*_6_local_energy_results_process_*.json',
  global_energy: '*_7_global_energy_results.json',
  text_output: '*_8_text_output.json',
  token_output: '*_8_token_output.json',
  raw_ranks: '*_raw_rank_*.json',
  manifests: 'manifest.json',
};

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function headerOf(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const first = buffer.toString('utf8', 0, bytesRead).split('\n')[0] ?? '';
    return first.split(',').map((c) => c.replace(/^"|"$/g, ''));
  } finally {
    await handle.close();
  }
}

/** One read_csv per file (text columns typed per file), stacked by column name. */
async function csvUnion(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const header = await headerOf(file);
    const types = TEXT_COLUMNS.filter((c) => header.includes(c)).map((c) => `${sqlString(c)}: 'VARCHAR'`);
    parts.push(
      `SELECT * FROM read_csv(${sqlString(file)}, header = true, sample_size = -1${types.length ? `, types = {${types.join(', ')}}` : ''})`,
    );
  }
  return parts.join('\nUNION ALL BY NAME\n');
}

/** CREATE VIEW statements for what the results folder holds now. */
export async function viewStatements(
  resultsDir: string,
  hasRaw: (glob: string) => Promise<boolean>,
): Promise<Array<{ name: string; sql: string }>> {
  const layout = resultsLayout(resultsDir);
  const names = (await readdir(layout.root).catch(() => [] as string[])).sort();
  const csvs = (re: RegExp) => names.filter((n) => re.test(n)).map((n) => path.join(layout.root, n));
  const views: Array<{ name: string; sql: string }> = [];
  const results = csvs(/_results(\.[^/]+)?\.csv$/);
  if (results.length) views.push({ name: 'results', sql: await csvUnion(results) });
  const failures = csvs(/^failed_experiments(\.[^/]+)?\.csv$/);
  if (failures.length) views.push({ name: 'failures', sql: await csvUnion(failures) });
  for (const [name, pattern] of Object.entries(RAW_VIEWS)) {
    const glob = path.join(layout.rawDir, '*', pattern);
    if (!(await hasRaw(glob))) continue;
    views.push({
      name,
      sql: `SELECT regexp_extract(filename, '([0-9]+)/[^/]+$', 1) AS folder_id, * FROM read_json(${sqlString(glob)}, union_by_name = true, filename = true, maximum_object_size = 268435456)`,
    });
  }
  // Side files copied from the worker (JSONL, one sample per line): one row per sample.
  const timeseries = path.join(layout.rawDir, '*', '*_timeseries_rank_*.jsonl');
  if (await hasRaw(timeseries)) {
    views.push({
      name: 'timeseries',
      sql: `SELECT regexp_extract(filename, '([0-9]+)/[^/]+$', 1) AS folder_id,
  CAST(regexp_extract(filename, '_timeseries_rank_([0-9]+)\\.jsonl$', 1) AS INTEGER) AS rank, *
FROM read_json(${sqlString(timeseries)}, format = 'newline_delimited', union_by_name = true, filename = true)`,
    });
  }
  if (
    await open(layout.journalFile, 'r').then(
      (h) => h.close().then(() => true),
      () => false,
    )
  ) {
    views.push({
      name: 'progress',
      sql: `SELECT key, status, rev, configHash AS config_hash, experimentId AS experiment_id, attempts,
  TRY_CAST(createdAt AS TIMESTAMPTZ) AS created_at, TRY_CAST(updatedAt AS TIMESTAMPTZ) AS updated_at,
  TRY_CAST(startedAt AS TIMESTAMPTZ) AS started_at, TRY_CAST(finishedAt AS TIMESTAMPTZ) AS finished_at,
  owner.pid AS owner_pid, owner.host AS owner_host, job, error, note
FROM read_json(${sqlString(layout.journalFile)}, format = 'newline_delimited', ignore_errors = true, columns = {
  key: 'VARCHAR', status: 'VARCHAR', rev: 'BIGINT', configHash: 'VARCHAR', experimentId: 'VARCHAR', attempts: 'INTEGER',
  createdAt: 'VARCHAR', updatedAt: 'VARCHAR', startedAt: 'VARCHAR', finishedAt: 'VARCHAR',
  owner: 'STRUCT(pid INTEGER, host VARCHAR, start VARCHAR)', job: 'VARCHAR', error: 'VARCHAR', note: 'VARCHAR'})
WHERE key IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY key ORDER BY rev DESC) = 1`,
    });
  }
  return views;
}
