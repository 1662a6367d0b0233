import { loadConfigFile } from '@joules/config';
import { resultColumnType } from '@joules/metrics';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';

export interface ValidateOptions {
  files: string[];
  set?: string[];
  skipInvalid?: boolean;
  json?: boolean;
  cwd?: string;
}

/**
 * `joules validate <file>...`: experiments and suites; every problem as `file:line path: message`;
 * exit 2 on any. Suites also report how many experiments they expand to.
 */
export async function validate(options: ValidateOptions, output: Output): Promise<number> {
  let failed = false;
  const report: Record<string, unknown>[] = [];
  for (const file of options.files) {
    const loaded = await loadConfigFile(file, {
      ...(options.set && { set: options.set }),
      ...(options.cwd && { cwd: options.cwd }),
      skipInvalid: options.skipInvalid === true,
      columnType: resultColumnType, // a search's objective and constraints name numeric result columns
    });
    const { errors, warnings } = loaded.result;
    for (const w of warnings) output.err(`warning: ${w}`);
    for (const e of errors) output.err(e);
    const valid = errors.length === 0;
    failed ||= !valid;
    const detail =
      loaded.kind === 'suite'
        ? `suite, ${loaded.experiments.length} experiments` +
          (loaded.invalid.length
            ? `, ${loaded.invalid.length} invalid combination(s) ${options.skipInvalid ? 'dropped' : 'reported'}`
            : '')
        : 'experiment';
    if (options.skipInvalid && loaded.kind === 'suite') {
      for (const i of loaded.invalid) output.err(`dropped ${i.key}: ${i.reasons.join('; ')}`);
    }
    if (!options.json && valid) output.out(`${file}: valid (${detail})`);
    report.push({
      file,
      kind: loaded.kind,
      valid,
      errors,
      warnings,
      ...(loaded.kind === 'suite' && { experiments: loaded.experiments.length, invalid: loaded.invalid }),
    });
  }
  if (options.json) output.out(JSON.stringify({ valid: !failed, files: report }));
  return failed ? EXIT.usage : EXIT.ok;
}
