import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Experiment, engineTraits } from '@joules/config';
import {
  type ServingRequest,
  ServingRequestSchema,
  ServingSummarySchema,
  servingColumns,
  servingMetrics,
} from '@joules/metrics';
import { SERVING_WORKER_FILES } from '@joules/tracker';

/**
 * Engine "server": the serving metrics of a finished run, as result columns, from the worker's
 * requests file and load summary in `workDir`. Undefined for engines without the `serving` column
 * group (@joules/config's engine table). A line or summary that
 * does not match its schema is an error naming the file (and line).
 */
export async function servingColumnsOf(
  workDir: string,
  experiment: Experiment,
): Promise<ReturnType<typeof servingColumns> | undefined> {
  if (!engineTraits(experiment.engine).columnGroups.includes('serving')) return undefined;
  const summaryFile = path.join(workDir, SERVING_WORKER_FILES.summary);
  const summary = ServingSummarySchema.safeParse(JSON.parse(await readFile(summaryFile, 'utf8')));
  if (!summary.success)
    throw new Error(
      `${summaryFile}: not a valid serving summary (${summary.error.issues[0]?.path.join('.')}: ${summary.error.issues[0]?.message})`,
    );
  const requestsFile = path.join(workDir, SERVING_WORKER_FILES.requests);
  const requests: ServingRequest[] = [];
  (await readFile(requestsFile, 'utf8')).split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const r = ServingRequestSchema.safeParse(JSON.parse(line));
    if (!r.success)
      throw new Error(
        `${requestsFile}:${i + 1}: not a valid request line (${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`,
      );
    requests.push(r.data);
  });
  return servingColumns(servingMetrics(requests, summary.data, experiment.slo));
}
