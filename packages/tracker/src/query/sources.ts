import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { resultColumnType } from '@joules/metrics';
import type { FAILURE_COLUMNS } from '../failure-log.js';
import { resultsLayout } from '../layout.js';

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** DuckDB types of the results table's columns (RESULT_COLUMNS): nothing is guessed from the data. */
function resultType(column: string): string | undefined {
  const type = resultColumnType(column);
  if (type === 'text') return 'VARCHAR';
  if (type === 'boolean') return 'BOOLEAN';
  if (type === 'number') return ['cycle_id', 'num_processes', 'batch_size'].includes(column) ? 'BIGINT' : 'DOUBLE';
  return undefined;
}

const FAILURE_TYPES: Record<(typeof FAILURE_COLUMNS)[number], string> = {
  timestamp: 'TIMESTAMPTZ',
  experiment_id: 'VARCHAR',
  config_name: 'VARCHAR',
  model_name: 'VARCHAR',
  attempt: 'BIGINT',
  kind: 'VARCHAR',
  error_message: 'VARCHAR',
  config_json: 'VARCHAR',
  final: 'BOOLEAN',
};
const failureType = (column: string): string | undefined => FAILURE_TYPES[column as keyof typeof FAILURE_TYPES];

async function headerOf(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const first = buffer.toString('utf8', 0, bytesRead).split('\n')[0] ?? '';
    return first
      .replace(/\r$/, '')
      .split(',')
      .map((c) => c.replace(/^"|"$/g, ''));
  } finally {
    await handle.close();
  }
}

/**
 * One read_csv per file, stacked by column name. A file whose columns are all known is read with
 * those types and no sniffing (DuckDB reads only the columns a query uses); one with a column this
 * version does not know is sniffed over all its rows, the known columns still typed.
 */
async function csvUnion(files: string[], typeOf: (column: string) => string | undefined): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const header = await headerOf(file);
    const typed = header.map((c) => [c, typeOf(c)] as const);
    const types = typed.filter(([, t]) => t).map(([c, t]) => `${sqlString(c)}: ${sqlString(t!)}`);
    const options = typed.every(([, t]) => t)
      ? `header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${types.join(', ')}}`
      : `header = true, sample_size = -1${types.length ? `, types = {${types.join(', ')}}` : ''}`;
    parts.push(`SELECT * FROM read_csv(${sqlString(file)}, ${options})`);
  }
  return parts.join('\nUNION ALL BY NAME\n');
}

const exists = (file: string) =>
  open(file, 'r').then(
    (h) => h.close().then(() => true),
    () => false,
  );

/** CREATE VIEW statements for the results CSVs, the failure log and the journal the folder holds now. */
export async function viewStatements(resultsDir: string): Promise<Array<{ name: string; sql: string }>> {
  const layout = resultsLayout(resultsDir);
  const names = (await readdir(layout.root).catch(() => [] as string[])).sort();
  const csvs = (re: RegExp) => names.filter((n) => re.test(n)).map((n) => path.join(layout.root, n));
  const views: Array<{ name: string; sql: string }> = [];
  const results = csvs(/_results(\.[^/]+)?\.csv$/);
  if (results.length) views.push({ name: 'results', sql: await csvUnion(results, resultType) });
  const failures = csvs(/^failed_experiments(\.[^/]+)?\.csv$/);
  if (failures.length) views.push({ name: 'failures', sql: await csvUnion(failures, failureType) });
  if (await exists(layout.journalFile)) {
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
