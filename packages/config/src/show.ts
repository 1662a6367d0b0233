import { type LoadOptions, loadConfigFile } from './load.js';

/** What `joules config show <file>` prints: the effective experiment(s) as plain data. */
export type ConfigShow =
  | {
      kind: 'experiment';
      file: string;
      errors: string[];
      warnings: string[];
      experiment: Record<string, unknown> | null;
    }
  | {
      kind: 'suite';
      file: string;
      errors: string[];
      warnings: string[];
      suite: Record<string, unknown> | null;
      experiments: { key: string; hash: string; experiment: Record<string, unknown> }[];
      invalid: { key: string; reasons: string[] }[];
    };

/**
 * Load a file (experiment or suite, with `extends` and `set`) and return every effective value as
 * plain, JSON-ready data. Paths are resolved against the file's folder unless `resolvePaths: false`.
 * Only an unreadable or unparsable file throws (ConfigFileError).
 */
export async function showConfig(file: string, options: LoadOptions = {}): Promise<ConfigShow> {
  const loaded = await loadConfigFile(file, { resolvePaths: true, ...options });
  const { errors, warnings } = loaded.result;
  if (loaded.kind === 'experiment') {
    return { kind: 'experiment', file, errors, warnings, experiment: loaded.result.config ?? null };
  }
  const suite = loaded.result.config;
  return {
    kind: 'suite',
    file,
    errors,
    warnings,
    suite: suite
      ? { ...suite, models: suite.models.map((m) => ({ label: m.label, model_name: m.model_name, ...m.overrides })) }
      : null,
    experiments: loaded.experiments.map((e) => ({ key: e.key, hash: e.hash, experiment: e.experiment })),
    invalid: loaded.invalid.map((i) => ({ key: i.key, reasons: i.reasons })),
  };
}
