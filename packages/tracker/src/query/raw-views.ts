import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sqlString } from './sources.js';

/** Files in `raw_results/<id>/` → view names (one row per file; JSONL side files: one per line). */
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
  timeseries: '*_timeseries_rank_*.jsonl',
};

const MATCHERS = Object.entries(RAW_VIEWS).map(([name, glob]) => {
  const parts = glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return { name, re: new RegExp(`^${parts.join('[^/]*')}$`) };
});

/** The view's SELECT over every matching file. */
export function rawViewSql(name: string, rawDir: string): string {
  const glob = sqlString(path.join(rawDir, '*', RAW_VIEWS[name]!));
  const folder = `regexp_extract(filename, '([0-9]+)/[^/]+$', 1) AS folder_id`;
  if (name === 'timeseries')
    return `SELECT ${folder},
  CAST(regexp_extract(filename, '_timeseries_rank_([0-9]+)\\.jsonl$', 1) AS INTEGER) AS rank, *
FROM read_json(${glob}, format = 'newline_delimited', union_by_name = true, filename = true)`;
  return `SELECT ${folder}, * FROM read_json(${glob}, union_by_name = true, filename = true, maximum_object_size = 268435456)`;
}

const BATCH = 64;

/**
 * Which raw views have files. The experiment folders are listed in order, each once at most, and
 * the listing stops as soon as the view asked about is seen: a kind every experiment writes is
 * found in the first folder; only a kind no experiment wrote costs a walk over all of them.
 */
export class RawFiles {
  readonly rawDir: string;
  #ids: string[] | undefined;
  #next = 0;
  readonly #found = new Set<string>();

  constructor(rawDir: string) {
    this.rawDir = rawDir;
  }

  async has(name: string): Promise<boolean> {
    this.#ids ??= (await readdir(this.rawDir).catch(() => [] as string[])).sort();
    while (!this.#found.has(name) && this.#next < this.#ids.length) {
      const batch = this.#ids.slice(this.#next, this.#next + BATCH);
      this.#next += batch.length;
      const listed = await Promise.all(batch.map((id) => readdir(path.join(this.rawDir, id)).catch(() => [])));
      for (const files of listed) this.#note(files);
    }
    return this.#found.has(name);
  }

  /** Every view with files, in RAW_VIEWS order (lists what is left to list, synchronously). */
  allSync(): string[] {
    this.#ids ??= this.#readdirSync(this.rawDir).sort();
    while (this.#found.size < MATCHERS.length && this.#next < this.#ids.length)
      this.#note(this.#readdirSync(path.join(this.rawDir, this.#ids[this.#next++]!)));
    return MATCHERS.filter((m) => this.#found.has(m.name)).map((m) => m.name);
  }

  #readdirSync(dir: string): string[] {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  }

  #note(files: string[]): void {
    for (const m of MATCHERS) if (!this.#found.has(m.name) && files.some((f) => m.re.test(f))) this.#found.add(m.name);
  }
}
