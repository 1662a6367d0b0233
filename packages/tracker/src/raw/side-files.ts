import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ENGINE_NAMES, ENGINES, engineTraits } from '@joules/config';
import type { RawMeasurement } from '@joules/metrics';
import { TrackerInputError } from '../errors.js';

/** A file copied byte for byte into `raw_results/<id>/` as `<id>_<name>` (listed in the manifest). */
export interface SideFile {
  /** File name after `<id>_`, with its extension, e.g. `timeseries_rank_0.jsonl`. */
  name: string;
  /** Where the worker wrote it. */
  source: string;
}

/** Names of side files in the results folder (after `<id>_`), as documented in the tracker README. */
export const SIDE_FILE_NAMES = {
  /** A rank's power/utilisation samples (JSONL), copied from the worker's `timeseries-rank-<r>.jsonl`. */
  timeseries: (rank: number) => `timeseries_rank_${rank}.jsonl`,
  /** Every rank's generated token ids (`save_token_ids`), one JSON document like the original's. */
  tokenOutput: '8_token_output',
  /** Engine "server": one line per measured request, copied from the worker's `requests-rank-0.jsonl`. */
  requests: ENGINES.server.sideFiles.requests.name,
  /** Engine "server": the load's windows and their energy (the worker's `serving-rank-0.json`). */
  serving: ENGINES.server.sideFiles.summary.name,
  /** Engine "server": the server's Prometheus metrics through the load (JSONL), where it has them. */
  serverMetrics: ENGINES.server.sideFiles.serverMetrics.name,
} as const;

/** The serving engine's files in the worker's folder (from @joules/config's engine table). */
export const SERVING_WORKER_FILES = {
  requests: ENGINES.server.sideFiles.requests.worker,
  summary: ENGINES.server.sideFiles.summary.worker,
} as const;

/** The worker's own names in its work folder (beside `rank-<r>.json`). */
export const tokenIdsFile = (rank: number) => `token-ids-rank-${rank}.jsonl`;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function mustExist(file: string, why: string): Promise<void> {
  try {
    await access(file);
  } catch (cause) {
    throw new TrackerInputError(`${file}: missing (${why}); nothing the worker measured may be lost`, { cause });
  }
}

/** One `{"prompt": …, "token_ids": […]}` object per line; a line that is not is an error naming file and line. */
async function readTokenIds(
  file: string,
  rank: number,
): Promise<Array<{ rank: number; prompt: string | null; token_ids: number[] }>> {
  const text = await readFile(file, 'utf8');
  const rows: Array<{ rank: number; prompt: string | null; token_ids: number[] }> = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (cause) {
      throw new TrackerInputError(`${file}:${i + 1}: not JSON`, { cause });
    }
    const r = row as { prompt?: unknown; token_ids?: unknown };
    if (!Array.isArray(r.token_ids) || !r.token_ids.every((t) => Number.isInteger(t))) {
      throw new TrackerInputError(`${file}:${i + 1}: token_ids must be an array of integers`);
    }
    rows.push({ rank, prompt: typeof r.prompt === 'string' ? r.prompt : null, token_ids: r.token_ids as number[] });
  });
  return rows;
}

/**
 * What the worker left beside its `rank-<r>.json` files in `workDir` that the results folder must
 * keep: each rank's timeseries (named by its raw measurement, copied as-is), with
 * `save_token_ids` each rank's token ids (folded into one `8_token_output` document), and the
 * engine's side files (@joules/config's engine table: engine "server" the requests file
 * `9_requests.jsonl`, the load summary `9_serving` and, where the server has Prometheus metrics,
 * `9_server_metrics.jsonl`). A file a rank names, that save_token_ids
 * promises, or that the engine requires, that is not there is an error: it is never dropped in silence.
 */
export async function collectSideFiles(
  experimentId: string,
  workDir: string,
  ranks: readonly RawMeasurement[],
  saveTokenIds: boolean,
  engine: string = ENGINE_NAMES[0],
): Promise<{ documents: Record<string, unknown>; files: SideFile[] }> {
  const sorted = [...ranks].sort((a, b) => a.rank - b.rank);
  const files: SideFile[] = [];
  for (const r of sorted) {
    const name = r.energy.timeseries_file;
    if (name === null) continue;
    const source = path.join(workDir, name);
    await mustExist(source, `rank ${r.rank}'s energy.timeseries_file`);
    files.push({ name: SIDE_FILE_NAMES.timeseries(r.rank), source });
  }
  const documents: Record<string, unknown> = {};
  if (saveTokenIds) {
    const outputs = [];
    for (const r of sorted) {
      const file = path.join(workDir, tokenIdsFile(r.rank));
      await mustExist(file, 'save_token_ids is on');
      outputs.push(...(await readTokenIds(file, r.rank)));
    }
    documents[SIDE_FILE_NAMES.tokenOutput] = { experiment_id: experimentId, outputs };
  }
  for (const f of Object.values(engineTraits(engine).sideFiles)) {
    const source = path.join(workDir, f.worker);
    if (f.required) await mustExist(source, f.why);
    else if (!(await exists(source))) continue;
    if (f.kind === 'file') files.push({ name: f.name, source });
    else documents[f.name] = { experiment_id: experimentId, ...(JSON.parse(await readFile(source, 'utf8')) as object) };
  }
  return { documents, files };
}

/** Size and sha256 of a file, read as a stream (timeseries files can be large). */
export async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
