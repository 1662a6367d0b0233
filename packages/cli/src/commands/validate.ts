import { loadExperimentFile } from '@joules/config';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';

export interface ValidateOptions {
  files: string[];
  json?: boolean;
}

/** `joules validate <file>...`: every problem as `file:line path: message`; exit 2 on any. */
export async function validate(options: ValidateOptions, output: Output): Promise<number> {
  let failed = false;
  const report: { file: string; valid: boolean; errors: string[]; warnings: string[] }[] = [];
  for (const file of options.files) {
    const { result } = await loadExperimentFile(file);
    report.push({ file, valid: !result.errors.length, errors: result.errors, warnings: result.warnings });
    for (const w of result.warnings) output.err(`warning: ${w}`);
    if (result.errors.length) {
      failed = true;
      for (const e of result.errors) output.err(e);
    } else if (!options.json) output.out(`${file}: valid`);
  }
  if (options.json) output.out(JSON.stringify({ valid: !failed, files: report }));
  return failed ? EXIT.usage : EXIT.ok;
}
