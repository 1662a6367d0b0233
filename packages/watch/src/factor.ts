import type { ResultColumn, ResultRecord } from '@joules/metrics';

/** Columns a suite may vary that carry a value of their own (else the configuration's name). */
const CANDIDATES: readonly ResultColumn[] = ['batch_size', 'precision', 'num_processes', 'num_prompts'];

export interface Factor {
  field: ResultColumn;
  type: 'quantitative' | 'nominal';
}

/**
 * The factor the rows' configurations vary: the first candidate column that takes a different
 * value in every configuration (and one value within each); otherwise `config_name`.
 */
export function variedFactor(rows: readonly ResultRecord[]): Factor {
  const configs = new Set(rows.map((r) => String(r.config_name)));
  if (configs.size > 1) {
    for (const field of CANDIDATES) {
      const byConfig = new Map<string, string>();
      let consistent = true;
      for (const r of rows) {
        const v = r[field] === null ? '' : String(r[field]);
        const seen = byConfig.get(String(r.config_name));
        if (seen !== undefined && seen !== v) consistent = false;
        byConfig.set(String(r.config_name), v);
      }
      const values = new Set(byConfig.values());
      if (consistent && !values.has('') && values.size === configs.size) {
        return { field, type: rows.every((r) => typeof r[field] === 'number') ? 'quantitative' : 'nominal' };
      }
    }
  }
  return { field: 'config_name', type: 'nominal' };
}
