import { configJsonSchema } from '@joules/config';
import { EXIT, ExitError } from '../errors.js';
import type { Output } from '../output.js';

/** `joules schema experiment|suite`: the JSON Schema editors use for completion. */
export async function schema(options: { kind: string | undefined }, output: Output): Promise<number> {
  if (options.kind !== 'experiment' && options.kind !== 'suite') {
    throw new ExitError(EXIT.usage, `unknown schema "${options.kind ?? ''}": expected "experiment" or "suite"`);
  }
  output.out(JSON.stringify(configJsonSchema(options.kind), null, 2));
  return EXIT.ok;
}
