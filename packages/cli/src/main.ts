import { parseArgs } from 'node:util';
import { ConfigError } from '@joules/config';
import { killRunningLaunches, LauncherError, LauncherLoadError, LaunchOptionsError } from '@joules/launcher';
import { RunnerError } from '@joules/runner';
import { TrackerError } from '@joules/tracker';
import { EXIT, ExitError } from './errors.js';
import { consoleOutput, type Output } from './output.js';

interface CommandSpec {
  summary: string;
  usage: string;
  example: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run: (values: Record<string, unknown>, positionals: string[], output: Output, signal: AbortSignal) => Promise<number>;
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary: 'run one experiment and record its results',
    usage: 'joules run <config.yaml> [--set path=value]... [--results-dir DIR] [--dry-run] [--json] [--python PATH]',
    example: 'joules run examples/demo.yaml --set batch_size=4 --results-dir results',
    options: { 'results-dir': { type: 'string' }, json: { type: 'boolean' }, python: { type: 'string' }, set: { type: 'string', multiple: true }, 'dry-run': { type: 'boolean' } },
    run: async (v, pos, output, signal) => {
      const { run } = await import('./commands/run.js');
      if (pos.length !== 1) throw new ExitError(EXIT.usage, 'joules run takes exactly one config file');
      return run(
        {
          config: pos[0]!,
          ...(Array.isArray(v.set) && { set: v.set as string[] }),
          ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }),
          ...(typeof v.python === 'string' && { python: v.python }),
          json: v.json === true,
          dryRun: v['dry-run'] === true,
          signal,
        },
        output,
      );
    },
  },
  suite: {
    summary: 'run a whole suite: skip what is done, run the rest with retries, resume after a crash',
    usage:
      'joules suite <suite.yaml> [--max-parallel N] [--gpus 0,1,...] [--results-dir DIR] [--set path=value]...\n' +
      '       [--skip-invalid] [--rerun-failed] [--rerun-changed] [--detach] [--dry-run] [--json] [--python PATH]\n' +
      '  --detach: Slurm jobs keep running after Ctrl-C / SIGTERM; run the same command again to reattach',
    example: 'joules suite examples/demo-suite.yaml --max-parallel 2',
    options: {
      'results-dir': { type: 'string' }, json: { type: 'boolean' }, python: { type: 'string' }, set: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' }, 'max-parallel': { type: 'string' }, gpus: { type: 'string' }, 'skip-invalid': { type: 'boolean' },
      'rerun-failed': { type: 'boolean' }, 'rerun-changed': { type: 'boolean' }, detach: { type: 'boolean' },
    },
    run: async (v, pos, output, signal) => {
      const { suite } = await import('./commands/suite.js');
      if (pos.length !== 1) throw new ExitError(EXIT.usage, 'joules suite takes exactly one suite file');
      const maxParallel = v['max-parallel'] === undefined ? 1 : Number(v['max-parallel']);
      if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new ExitError(EXIT.usage, `--max-parallel: expected an integer >= 1, got "${String(v['max-parallel'])}"`);
      let gpus: number[] | undefined;
      if (typeof v.gpus === 'string') {
        gpus = v.gpus.split(',').map((g) => Number(g.trim()));
        if (gpus.some((g) => !Number.isInteger(g) || g < 0)) throw new ExitError(EXIT.usage, `--gpus: expected GPU indices like 0,1,2, got "${v.gpus}"`);
      }
      return suite(
        {
          file: pos[0]!, maxParallel, ...(gpus && { gpus }),
          ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }),
          ...(typeof v.python === 'string' && { python: v.python }),
          ...(Array.isArray(v.set) && { set: v.set as string[] }),
          skipInvalid: v['skip-invalid'] === true, rerunFailed: v['rerun-failed'] === true, rerunChanged: v['rerun-changed'] === true,
          dryRun: v['dry-run'] === true, detach: v.detach === true, json: v.json === true, signal,
        },
        output,
      );
    },
  },
  validate: {
    summary: 'check experiment and suite files; print every problem as file:line path: message',
    usage: 'joules validate <file.yaml>... [--set path=value]... [--skip-invalid] [--json]',
    example: 'joules validate examples/*.yaml',
    options: { json: { type: 'boolean' }, set: { type: 'string', multiple: true }, 'skip-invalid': { type: 'boolean' } },
    run: async (v, pos, output) => {
      const { validate } = await import('./commands/validate.js');
      if (!pos.length) throw new ExitError(EXIT.usage, 'joules validate needs at least one file');
      return validate({ files: pos, json: v.json === true, skipInvalid: v['skip-invalid'] === true, ...(Array.isArray(v.set) && { set: v.set as string[] }) }, output);
    },
  },
  config: {
    summary: 'show every effective value of an experiment or suite (`joules config show <file>`)',
    usage: 'joules config show <file.yaml> [--set path=value]... [--skip-invalid] [--json]',
    example: 'joules config show examples/demo-suite.yaml --set cycles=1',
    options: { json: { type: 'boolean' }, set: { type: 'string', multiple: true }, 'skip-invalid': { type: 'boolean' } },
    run: async (v, pos, output) => {
      const { configShow } = await import('./commands/config-show.js');
      if (pos[0] !== 'show' || pos.length !== 2) throw new ExitError(EXIT.usage, 'usage: joules config show <file.yaml>');
      return configShow({ file: pos[1]!, json: v.json === true, skipInvalid: v['skip-invalid'] === true, ...(Array.isArray(v.set) && { set: v.set as string[] }) }, output);
    },
  },
  status: {
    summary: 'progress per suite and model: done / failed / pending / running / stale / interrupted, and an ETA',
    usage: 'joules status [suite.yaml] [--results-dir DIR] [--max-parallel N] [--json]',
    example: 'joules status examples/demo-suite.yaml',
    options: { 'results-dir': { type: 'string' }, json: { type: 'boolean' }, 'max-parallel': { type: 'string' } },
    run: async (v, pos, output) => {
      const { status } = await import('./commands/status.js');
      return status({
        ...(pos[0] && { suite: pos[0] }), json: v.json === true,
        ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }),
        ...(v['max-parallel'] !== undefined && { maxParallel: Number(v['max-parallel']) || 1 }),
      }, output);
    },
  },
  results: {
    summary: 'the results as a table, or any SQL over them (DuckDB): views results, failures, progress, raw JSON kinds',
    usage: 'joules results [--sql "SELECT ..."] [--format table|csv|json|parquet] [--out FILE] [--results-dir DIR]',
    example: 'joules results --sql "SELECT model_name, avg(energy_per_token_j) FROM results GROUP BY 1"',
    options: { 'results-dir': { type: 'string' }, sql: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
    run: async (v, _pos, output) => {
      const { results } = await import('./commands/results.js');
      return results({
        ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }),
        ...(typeof v.sql === 'string' && { sql: v.sql }),
        ...(typeof v.format === 'string' && { format: v.format }),
        ...(typeof v.out === 'string' && { out: v.out }),
      }, output);
    },
  },
  report: {
    summary: 'one self-contained HTML report: charts (energy/token vs batch size, throughput vs precision, cycle spread) and every experiment',
    usage: 'joules report [--results-dir DIR] [--out FILE.html] [--title TEXT]',
    example: 'joules report --out report.html',
    options: { 'results-dir': { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } },
    run: async (v, _pos, output) => {
      const { report } = await import('./commands/report.js');
      return report({
        ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }),
        ...(typeof v.out === 'string' && { out: v.out }),
        ...(typeof v.title === 'string' && { title: v.title }),
      }, output);
    },
  },
  demo: {
    summary: 'run the demo experiment (the embedded tiny model on CPU)',
    usage: 'joules demo [--results-dir DIR] [--json]',
    example: 'joules demo',
    options: { 'results-dir': { type: 'string' }, json: { type: 'boolean' } },
    run: async (v, _pos, output, signal) => {
      const { run } = await import('./commands/run.js');
      const { checkoutRoot } = await import('@joules/runner');
      return run({ config: `${checkoutRoot}examples/demo.yaml`, json: v.json === true, signal, ...(typeof v['results-dir'] === 'string' && { resultsDir: v['results-dir'] }) }, output);
    },
  },
  doctor: {
    summary: 'check node, the worker venv, torch, accelerate, GPUs, NVML, RAPL and which energy path works here',
    usage: 'joules doctor [--json] [--python PATH]',
    example: 'joules doctor',
    options: { json: { type: 'boolean' }, python: { type: 'string' } },
    run: async (v, _pos, output) => {
      const { doctor } = await import('./commands/doctor.js');
      return doctor({ json: v.json === true, ...(typeof v.python === 'string' && { python: v.python }) }, output);
    },
  },
  schema: {
    summary: 'print the JSON Schema of experiment or suite files (for editor completion)',
    usage: 'joules schema experiment|suite',
    example: 'joules schema experiment > experiment.schema.json',
    options: {},
    run: async (_v, pos, output) => {
      const { schema } = await import('./commands/schema.js');
      return schema({ kind: pos[0] }, output);
    },
  },
};

function help(output: Output): void {
  output.out('joules — what LLM inference really costs (energy, throughput, latency, FLOPs, memory)\n');
  output.out('Usage: joules <command> [options]\n\nCommands:');
  for (const [name, spec] of Object.entries(COMMANDS)) output.out(`  ${name.padEnd(10)} ${spec.summary}`);
  output.out('\nExit codes: 0 ok, 1 experiment failed, 2 usage or config error, 130 interrupted.');
  output.out('Run `joules <command> --help` for its options and an example.');
}

/** The whole CLI as a function: tests call it with argv; the bin passes process.argv. */
export async function runMain(rawArgs: readonly string[], output: Output = consoleOutput()): Promise<number> {
  const [name, ...rest] = rawArgs;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(output);
    return name ? EXIT.ok : EXIT.usage;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    output.err(`unknown command "${name}"; try \`joules --help\``);
    return EXIT.usage;
  }
  const controller = new AbortController();
  // First Ctrl-C / SIGTERM: stop running experiments gracefully (signal forwarded, then SIGKILL
  // after a grace period), mark them interrupted, exit 130. A second one kills at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      output.err(`${sig} again: killing every worker now`);
      killRunningLaunches('SIGKILL');
      process.exit(EXIT.interrupted);
    }
    output.err(`\n${sig}: stopping the running experiment(s)… (again to kill at once)`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      output.out(`${spec.summary}\n\nUsage: ${spec.usage}\nExample: ${spec.example}`);
      return EXIT.ok;
    }
    return await spec.run(values as Record<string, unknown>, positionals, output, controller.signal);
  } catch (error) {
    if (error instanceof ExitError) {
      output.err(error.message);
      return error.exitCode;
    }
    if (error instanceof ConfigError || error instanceof LauncherLoadError || error instanceof LaunchOptionsError) {
      output.err(error.message);
      return EXIT.usage;
    }
    if (error instanceof RunnerError) {
      // RunConfigError lists every problem of the file, one per line; the rest is the environment.
      output.err(error.message);
      return error.code === 'CONFIG_INVALID' || error.code === 'BAD_OPTIONS' ? EXIT.usage : EXIT.failed;
    }
    if (error instanceof LauncherError || error instanceof TrackerError) {
      // Known failures of the environment (a missing binary, a locked or foreign results file).
      output.err(`${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`);
      return EXIT.failed;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.err(`${error.message}\nUsage: ${spec.usage}`);
      return EXIT.usage;
    }
    output.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    output.err('This is a bug in Joules: please report it with the command and the log file.');
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
