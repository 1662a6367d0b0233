import { experimentJsonSchema } from '@joules/config';
import { EXIT, ExitError } from '../errors.js';
import type { Output } from '../output.js';

/** `joules schema experiment`: the JSON Schema editors use for completion. */
export async function schema(options: { kind: string | undefined }, output: Output): Promise<number> {
  if (options.kind !== 'experiment') {
    throw new ExitError(EXIT.usage, `unknown schema "${options.kind ?? ''}": expected "experiment"`);
  }
  output.out(JSON.stringify(experimentJsonSchema('input'), null, 2));
  return EXIT.ok;
}
