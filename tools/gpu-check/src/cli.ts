import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuCheckError } from './errors.js';
import { experimentsFileText } from './experiments.js';
import { runKit } from './kit.js';
import { DEFAULT_DOC, EXPERIMENTS_FILE } from './paths.js';
import { summarize } from './summarize.js';

const USAGE = `usage: npm run gpu-check -- --out DIR [--cpu] [--python PATH]   run the kit (GPU; --cpu: rehearsal)
       npm run gpu-check -- --summarize DIR [--doc PATH]      write the figures into docs/gpu-validation.md
       npm run gpu-check -- --write-experiments                regenerate tools/gpu-check/experiments.json`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      cpu: { type: 'boolean', default: false },
      python: { type: 'string' },
      summarize: { type: 'string' },
      doc: { type: 'string' },
      'write-experiments': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
}

/** The gpu-check command; resolves with the exit code. */
export async function runMain(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const modes = [values.out !== undefined, values.summarize !== undefined, values['write-experiments']].filter(
    Boolean,
  ).length;
  if (values.help || modes !== 1) {
    process.stderr.write(
      `${values.help ? '' : 'give exactly one of --out, --summarize, --write-experiments\n'}${USAGE}\n`,
    );
    return values.help ? 0 : 2;
  }
  try {
    if (values['write-experiments']) {
      writeFileSync(EXPERIMENTS_FILE, experimentsFileText());
      process.stdout.write(`wrote ${EXPERIMENTS_FILE}\n`);
      return 0;
    }
    if (values.summarize !== undefined) {
      const doc = resolve(values.doc ?? DEFAULT_DOC);
      const { rows } = summarize(resolve(values.summarize), doc);
      for (const r of rows) process.stdout.write(`${r.status.padEnd(7)} ${r.check}: ${r.figure}\n`);
      process.stdout.write(`wrote ${doc}\n`);
      return rows.some((r) => r.status === 'fail') ? 1 : 0;
    }
    const code = await runKit({
      out: resolve(values.out!),
      cpu: values.cpu,
      ...(values.python ? { python: values.python } : {}),
    });
    if (code === 0) process.stdout.write(`next: npm run gpu-check -- --summarize ${values.out}\n`);
    return code;
  } catch (e) {
    if (e instanceof GpuCheckError) {
      process.stderr.write(`gpu-check: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
