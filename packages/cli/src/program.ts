import { Command, InvalidArgumentError, Option } from 'commander';
import type { Output } from './output.js';

/** What an action needs beyond its arguments; it sets `code` (the command's exit code). */
export interface ActionContext {
  output: Output;
  signal: AbortSignal;
  code: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const intAtLeast1 = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected an integer >= 1, got "${value}"`);
  return n;
};
const portNumber = (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535, got "${value}"`);
  return n;
};
const gpuList = (value: string) => {
  const gpus = value.split(',').map((g) => Number(g.trim()));
  if (gpus.some((g) => !Number.isInteger(g) || g < 0))
    throw new InvalidArgumentError(`expected GPU indices like 0,1,2, got "${value}"`);
  return gpus;
};

// Each flag is declared once, here; commands pick the ones they take.
const FLAGS = {
  resultsDir: () => new Option('--results-dir <dir>', 'results folder (default: ./results)'),
  json: () => new Option('--json', 'machine-readable output on stdout'),
  python: () =>
    new Option('--python <path>', 'the Python that runs the worker (default: $JOULES_PYTHON, else python/.venv)'),
  set: () => new Option('--set <path=value>', 'override a config value (repeatable)').argParser(collect),
  dryRun: () => new Option('--dry-run', 'print the command lines and config; launch nothing'),
  skipInvalid: () => new Option('--skip-invalid', 'drop invalid suite combinations instead of refusing the file'),
  maxParallel: () => new Option('--max-parallel <n>', 'experiments at once').argParser(intAtLeast1),
} as const;

type Opts = Record<string, unknown>;
const pick = <T>(o: Opts, key: string) => (o[key] === undefined ? {} : { [key]: o[key] as T });

/** The `joules` command tree; `ctx.code` holds the exit code of the action that ran. */
export function buildProgram(ctx: ActionContext): Command {
  const { output } = ctx;
  const program = new Command('joules')
    .description('joules — what LLM inference really costs (energy, throughput, latency, FLOPs, memory)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, '')),
      writeErr: (s) => output.err(s.replace(/\n$/, '')),
    })
    .configureHelp({ helpWidth: 110 })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 experiment failed, 2 usage or config error, 130 interrupted.\nRun `joules <command> --help` for its options and an example.',
    );
  const example = (cmd: Command, text: string) => cmd.addHelpText('after', `\nExample: ${text}`);
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      ctx.code = await fn(...args);
    };

  example(
    program
      .command('run')
      .description('run one experiment and record its results')
      .argument('<config.yaml>', 'the experiment file')
      .addOption(FLAGS.set())
      .addOption(FLAGS.resultsDir())
      .addOption(FLAGS.dryRun())
      .addOption(FLAGS.json())
      .addOption(FLAGS.python())
      .action(
        act(async (config: string, o: Opts) => {
          const { run } = await import('./commands/run.js');
          return run(
            {
              config,
              ...pick(o, 'set'),
              ...pick(o, 'resultsDir'),
              ...pick(o, 'python'),
              json: o.json === true,
              dryRun: o.dryRun === true,
              signal: ctx.signal,
            },
            output,
          );
        }),
      ),
    'joules run examples/demo.yaml --set batch_size=4 --results-dir results',
  );

  example(
    program
      .command('suite')
      .description('run a whole suite: skip what is done, run the rest with retries, resume after a crash')
      .argument('<suite.yaml>', 'the suite file')
      .addOption(FLAGS.maxParallel().default(1))
      .addOption(new Option('--gpus <ids>', 'the GPU pool, e.g. 0,1,2,3').argParser(gpuList))
      .addOption(FLAGS.resultsDir())
      .addOption(FLAGS.set())
      .addOption(FLAGS.skipInvalid())
      .option('--rerun-failed', 'run keys that failed before again')
      .option('--rerun-changed', 'run done keys whose config changed again')
      .option(
        '--reuse-model',
        'load each model once for consecutive experiments with equal load settings (as `reuse: model`)',
      )
      .option('--detach', 'Slurm jobs keep running after Ctrl-C / SIGTERM; run the same command again to reattach')
      .addOption(
        new Option(
          '--watch [port]',
          'serve the live dashboard on 127.0.0.1 while the suite runs (default port 9465)',
        ).argParser(portNumber),
      )
      .addOption(FLAGS.dryRun())
      .addOption(FLAGS.json())
      .addOption(FLAGS.python())
      .action(
        act(async (file: string, o: Opts) => {
          const { suite } = await import('./commands/suite.js');
          return suite(
            {
              file,
              maxParallel: o.maxParallel as number,
              ...pick(o, 'gpus'),
              ...pick(o, 'resultsDir'),
              ...pick(o, 'python'),
              ...pick(o, 'set'),
              skipInvalid: o.skipInvalid === true,
              rerunFailed: o.rerunFailed === true,
              rerunChanged: o.rerunChanged === true,
              reuseModel: o.reuseModel === true,
              dryRun: o.dryRun === true,
              detach: o.detach === true,
              json: o.json === true,
              signal: ctx.signal,
              ...pick(o, 'watch'),
            },
            output,
          );
        }),
      ),
    'joules suite examples/demo-suite.yaml --max-parallel 2',
  );

  example(
    program
      .command('validate')
      .description('check experiment and suite files; print every problem as file:line path: message')
      .argument('<file.yaml...>', 'experiment or suite files')
      .addOption(FLAGS.set())
      .addOption(FLAGS.skipInvalid())
      .addOption(FLAGS.json())
      .action(
        act(async (files: string[], o: Opts) => {
          const { validate } = await import('./commands/validate.js');
          return validate(
            { files, json: o.json === true, skipInvalid: o.skipInvalid === true, ...pick(o, 'set') },
            output,
          );
        }),
      ),
    'joules validate examples/*.yaml',
  );

  const config = program
    .command('config')
    .description('show every effective value of an experiment or suite (`joules config show <file>`)');
  example(
    config
      .command('show')
      .description('every effective value of an experiment or suite')
      .argument('<file.yaml>', 'experiment or suite file')
      .addOption(FLAGS.set())
      .addOption(FLAGS.skipInvalid())
      .addOption(FLAGS.json())
      .action(
        act(async (file: string, o: Opts) => {
          const { configShow } = await import('./commands/config-show.js');
          return configShow(
            { file, json: o.json === true, skipInvalid: o.skipInvalid === true, ...pick(o, 'set') },
            output,
          );
        }),
      ),
    'joules config show examples/demo-suite.yaml --set cycles=1',
  );

  example(
    program
      .command('status')
      .description('progress per suite and model: done / failed / pending / running / stale / interrupted, and an ETA')
      .argument('[suite.yaml]', 'count the keys of this suite not started yet too')
      .addOption(FLAGS.resultsDir())
      .addOption(FLAGS.maxParallel())
      .addOption(FLAGS.json())
      .action(
        act(async (suiteFile: string | undefined, o: Opts) => {
          const { status } = await import('./commands/status.js');
          return status(
            {
              ...(suiteFile && { suite: suiteFile }),
              json: o.json === true,
              ...pick(o, 'resultsDir'),
              ...pick(o, 'maxParallel'),
            },
            output,
          );
        }),
      ),
    'joules status examples/demo-suite.yaml',
  );

  example(
    program
      .command('results')
      .description(
        'the results as a table, or any SQL over them (DuckDB): views results, failures, progress, raw JSON kinds',
      )
      .addOption(FLAGS.resultsDir())
      .option('--sql <query>', 'any SQL over the views')
      .option('--format <format>', 'table, csv, json or parquet')
      .option('--out <file>', 'write to a file instead of stdout')
      .action(
        act(async (o: Opts) => {
          const { results } = await import('./commands/results.js');
          return results(
            { ...pick(o, 'resultsDir'), ...pick(o, 'sql'), ...pick(o, 'format'), ...pick(o, 'out') },
            output,
          );
        }),
      ),
    'joules results --sql "SELECT model_name, avg(energy_per_token_j) FROM results GROUP BY 1"',
  );

  example(
    program
      .command('watch')
      .description(
        'a live dashboard of a results folder (progress, running experiments, power, results, failures), /metrics for Prometheus, /api/status',
      )
      .addOption(FLAGS.resultsDir())
      .addOption(new Option('--port <n>', 'port (default 9465; 0: any free one)').argParser(portNumber))
      .option('--host <address>', 'address to bind (default 127.0.0.1; any other needs --token)')
      .option(
        '--token <token>',
        'required on every request (Authorization: Bearer, or ?token=); default $JOULES_WATCH_TOKEN',
      )
      .action(
        act(async (o: Opts) => {
          const { watch } = await import('./commands/watch.js');
          return watch(
            {
              ...pick(o, 'resultsDir'),
              ...pick(o, 'port'),
              ...pick(o, 'host'),
              ...pick(o, 'token'),
              signal: ctx.signal,
            },
            output,
          );
        }),
      ),
    'joules watch --results-dir results --port 9465',
  );

  example(
    program
      .command('report')
      .description(
        'one self-contained HTML report: charts (energy/token vs batch size, throughput vs precision, cycle spread) and every experiment',
      )
      .addOption(FLAGS.resultsDir())
      .option('--out <file.html>', 'the report file')
      .option('--title <text>', 'the report title')
      .action(
        act(async (o: Opts) => {
          const { report } = await import('./commands/report.js');
          return report({ ...pick(o, 'resultsDir'), ...pick(o, 'out'), ...pick(o, 'title') }, output);
        }),
      ),
    'joules report --out report.html',
  );

  example(
    program
      .command('demo')
      .description('run the demo experiment (the embedded tiny model on CPU)')
      .addOption(FLAGS.resultsDir())
      .addOption(FLAGS.json())
      .action(
        act(async (o: Opts) => {
          const { run } = await import('./commands/run.js');
          const { checkoutRoot } = await import('@joules/runner');
          return run(
            {
              config: `${checkoutRoot}examples/demo.yaml`,
              json: o.json === true,
              signal: ctx.signal,
              ...pick(o, 'resultsDir'),
            },
            output,
          );
        }),
      ),
    'joules demo',
  );

  example(
    program
      .command('doctor')
      .description('check node, the worker venv, torch, accelerate, GPUs, NVML, RAPL and which energy path works here')
      .addOption(FLAGS.json())
      .addOption(FLAGS.python())
      .action(
        act(async (o: Opts) => {
          const { doctor } = await import('./commands/doctor.js');
          return doctor({ json: o.json === true, ...pick(o, 'python') }, output);
        }),
      ),
    'joules doctor',
  );

  example(
    program
      .command('schema')
      .description('print the JSON Schema of experiment or suite files (for editor completion)')
      .argument('<kind>', 'experiment or suite')
      .action(
        act(async (kind: string) => {
          const { schema } = await import('./commands/schema.js');
          return schema({ kind }, output);
        }),
      ),
    'joules schema experiment > experiment.schema.json',
  );
  return program;
}
