import { showConfig } from '@joules/config';
import { stringify } from 'yaml';
import { EXIT } from '../errors.js';
import type { Output } from '../output.js';

/** `joules config show <file>`: every effective value (defaults, extends, --set applied). */
export async function configShow(
  options: { file: string; set?: string[]; json?: boolean; skipInvalid?: boolean; cwd?: string },
  output: Output,
): Promise<number> {
  const shown = await showConfig(options.file, {
    ...(options.set && { set: options.set }),
    ...(options.cwd && { cwd: options.cwd }),
    skipInvalid: options.skipInvalid === true,
  });
  for (const w of shown.warnings) output.err(`warning: ${w}`);
  for (const e of shown.errors) output.err(e);
  if (shown.errors.length) return EXIT.usage;
  const data =
    shown.kind === 'experiment'
      ? shown.experiment
      : { suite: shown.suite, experiments: shown.experiments, ...(shown.invalid.length && { invalid: shown.invalid }) };
  output.out(options.json ? JSON.stringify(data) : stringify(data, { lineWidth: 0 }).trimEnd());
  return EXIT.ok;
}
