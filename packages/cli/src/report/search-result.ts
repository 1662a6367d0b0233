import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SEARCH_RESULT_FILE, type SearchResult } from '@joules/runner';

/**
 * The search's result beside the results (`search_result.json`, written when a search suite
 * finishes), or null when the folder holds none or the file is not one (the report then has no
 * search section).
 */
export async function readSearchResult(resultsDir: string): Promise<SearchResult | null> {
  let text: string;
  try {
    text = await readFile(path.join(resultsDir, SEARCH_RESULT_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const r = JSON.parse(text) as Partial<SearchResult>;
    const ok =
      Array.isArray(r.measured) &&
      typeof r.objective === 'string' &&
      Array.isArray(r.constraints) &&
      r.pareto !== undefined &&
      Array.isArray(r.pareto.front) &&
      r.experiments !== undefined;
    return ok ? (r as SearchResult) : null;
  } catch {
    return null;
  }
}
