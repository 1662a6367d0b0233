import { type CommandSpec, flag, opt, pick } from './command-spec.js';
import { FLAGS, gpuList, portNumber } from './flags.js';

/** Every `joules` command, in the order `joules --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    description: 'run one experiment and record its results',
    args: [{ name: 'config', syntax: '<config.yaml>', description: 'the experiment file' }],
    options: [FLAGS.set, FLAGS.resultsDir, FLAGS.dryRun, FLAGS.json, FLAGS.python],
    example: 'joules run examples/demo.yaml --set batch_size=4 --results-dir results',
    run: async (a, { output, signal }) => {
      const { run } = await import('./commands/run.js');
      const options = { ...pick<string[]>(a, 'set'), ...pick<string>(a, 'resultsDir'), ...pick<string>(a, 'python') };
      return run(
        { config: a.config as string, ...options, json: flag(a, 'json'), dryRun: flag(a, 'dryRun'), signal },
        output,
      );
    },
  },
  {
    name: 'suite',
    description: 'run a whole suite: skip what is done, run the rest with retries, resume after a crash',
    args: [{ name: 'file', syntax: '<suite.yaml>', description: 'the suite file' }],
    options: [
      { ...FLAGS.maxParallel, default: 1 },
      opt('--gpus <ids>', 'the GPU pool, e.g. 0,1,2,3', { parse: gpuList }),
      FLAGS.resultsDir,
      FLAGS.set,
      FLAGS.skipInvalid,
      opt('--rerun-failed', 'run keys that failed before again'),
      opt('--rerun-changed', 'run done keys whose config changed again'),
      opt(
        '--reuse-model',
        'load each model once for consecutive experiments with equal load settings (as `reuse: model`)',
      ),
      opt('--detach', 'Slurm jobs keep running after Ctrl-C / SIGTERM; run the same command again to reattach'),
      opt('--watch [port]', 'serve the live dashboard on 127.0.0.1 while the suite runs (default port 9465)', {
        parse: portNumber,
      }),
      FLAGS.dryRun,
      FLAGS.json,
      FLAGS.python,
    ],
    example: 'joules suite examples/demo-suite.yaml --max-parallel 2',
    run: async (a, { output, signal }) => {
      const { suite } = await import('./commands/suite.js');
      return suite(
        {
          file: a.file as string,
          maxParallel: a.maxParallel as number,
          ...pick<number[]>(a, 'gpus'),
          ...pick<string>(a, 'resultsDir'),
          ...pick<string>(a, 'python'),
          ...pick<string[]>(a, 'set'),
          skipInvalid: flag(a, 'skipInvalid'),
          rerunFailed: flag(a, 'rerunFailed'),
          rerunChanged: flag(a, 'rerunChanged'),
          reuseModel: flag(a, 'reuseModel'),
          dryRun: flag(a, 'dryRun'),
          detach: flag(a, 'detach'),
          json: flag(a, 'json'),
          signal,
          ...pick<true | number>(a, 'watch'),
        },
        output,
      );
    },
  },
  {
    name: 'validate',
    description: 'check experiment and suite files; print every problem as file:line path: message',
    args: [{ name: 'files', syntax: '<file.yaml...>', description: 'experiment or suite files' }],
    options: [FLAGS.set, FLAGS.skipInvalid, FLAGS.json],
    example: 'joules validate examples/*.yaml',
    run: async (a, { output }) => {
      const { validate } = await import('./commands/validate.js');
      const files = a.files as string[];
      return validate(
        { files, json: flag(a, 'json'), skipInvalid: flag(a, 'skipInvalid'), ...pick<string[]>(a, 'set') },
        output,
      );
    },
  },
  {
    name: 'config',
    description: 'show every effective value of an experiment or suite (`joules config show <file>`)',
    subcommands: [
      {
        name: 'show',
        description: 'every effective value of an experiment or suite',
        args: [{ name: 'file', syntax: '<file.yaml>', description: 'experiment or suite file' }],
        options: [FLAGS.set, FLAGS.skipInvalid, FLAGS.json],
        example: 'joules config show examples/demo-suite.yaml --set cycles=1',
        run: async (a, { output }) => {
          const { configShow } = await import('./commands/config-show.js');
          const file = a.file as string;
          return configShow(
            { file, json: flag(a, 'json'), skipInvalid: flag(a, 'skipInvalid'), ...pick<string[]>(a, 'set') },
            output,
          );
        },
      },
    ],
  },
  {
    name: 'status',
    description: 'progress per suite and model: done / failed / pending / running / stale / interrupted, and an ETA',
    args: [{ name: 'suite', syntax: '[suite.yaml]', description: 'count the keys of this suite not started yet too' }],
    options: [FLAGS.resultsDir, FLAGS.maxParallel, FLAGS.json],
    example: 'joules status examples/demo-suite.yaml',
    run: async (a, { output }) => {
      const { status } = await import('./commands/status.js');
      const suite = a.suite ? { suite: a.suite as string } : {};
      const options = { ...pick<string>(a, 'resultsDir'), ...pick<number>(a, 'maxParallel') };
      return status({ ...suite, json: flag(a, 'json'), ...options }, output);
    },
  },
  {
    name: 'results',
    description:
      'the results as a table, or any SQL over them (DuckDB): views results, failures, progress, raw JSON kinds',
    options: [
      FLAGS.resultsDir,
      opt('--sql <query>', 'any SQL over the views'),
      opt('--format <format>', 'table, csv, json or parquet'),
      opt('--out <file>', 'write to a file instead of stdout'),
      opt('--summary', 'per configuration: each figure as mean ± 95 % CI over its cycles (Student t)'),
    ],
    example: 'joules results --sql "SELECT model_name, avg(energy_per_token_j) FROM results GROUP BY 1"',
    run: async (a, { output }) => {
      const { results } = await import('./commands/results.js');
      const options = { ...pick<string>(a, 'resultsDir'), ...pick<string>(a, 'sql') };
      const summary = a.summary === true ? { summary: true } : {};
      return results({ ...options, ...pick<string>(a, 'format'), ...pick<string>(a, 'out'), ...summary }, output);
    },
  },
  {
    name: 'watch',
    description:
      'a live dashboard of a results folder (progress, running experiments, power, results, failures), /metrics for Prometheus, /api/status',
    options: [
      FLAGS.resultsDir,
      opt('--port <n>', 'port (default 9465; 0: any free one)', { parse: portNumber }),
      opt('--host <address>', 'address to bind (default 127.0.0.1; any other needs --token)'),
      opt(
        '--token <token>',
        'required on every request (Authorization: Bearer, or ?token=); default $JOULES_WATCH_TOKEN',
      ),
    ],
    example: 'joules watch --results-dir results --port 9465',
    run: async (a, { output, signal }) => {
      const { watch } = await import('./commands/watch.js');
      const where = { ...pick<string>(a, 'resultsDir'), ...pick<number>(a, 'port'), ...pick<string>(a, 'host') };
      return watch({ ...where, ...pick<string>(a, 'token'), signal }, output);
    },
  },
  {
    name: 'report',
    description:
      'one self-contained HTML report aggregated per configuration (charts per factor, best/worst, Pareto front, cycle spread; a paged table; every experiment for small studies) and the raw rows beside it as <out>.rows.parquet',
    options: [FLAGS.resultsDir, opt('--out <file.html>', 'the report file'), opt('--title <text>', 'the report title')],
    example: 'joules report --out report.html',
    run: async (a, { output }) => {
      const { report } = await import('./commands/report.js');
      return report(
        { ...pick<string>(a, 'resultsDir'), ...pick<string>(a, 'out'), ...pick<string>(a, 'title') },
        output,
      );
    },
  },
  {
    name: 'demo',
    description: 'run the demo experiment (the embedded tiny model on CPU)',
    options: [FLAGS.resultsDir, FLAGS.json],
    example: 'joules demo',
    run: async (a, { output, signal }) => {
      const { run } = await import('./commands/run.js');
      const { checkoutRoot } = await import('@joules/runner');
      const config = `${checkoutRoot}examples/demo.yaml`;
      return run({ config, json: flag(a, 'json'), signal, ...pick<string>(a, 'resultsDir') }, output);
    },
  },
  {
    name: 'doctor',
    description: 'check node, the worker venv, torch, accelerate, GPUs, NVML, RAPL and which energy path works here',
    options: [FLAGS.json, FLAGS.python],
    example: 'joules doctor',
    run: async (a, { output }) => {
      const { doctor } = await import('./commands/doctor.js');
      return doctor({ json: flag(a, 'json'), ...pick<string>(a, 'python') }, output);
    },
  },
  {
    name: 'schema',
    description: 'print the JSON Schema of experiment or suite files (for editor completion)',
    args: [{ name: 'kind', syntax: '<kind>', description: 'experiment or suite' }],
    example: 'joules schema experiment > experiment.schema.json',
    run: async (a, { output }) => {
      const { schema } = await import('./commands/schema.js');
      return schema({ kind: a.kind as string }, output);
    },
  },
];
