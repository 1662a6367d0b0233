import { CommanderError } from 'commander';
import { EXIT, ExitError } from './errors.js';
import { consoleOutput, type Output } from './output.js';
import { type ActionContext, buildProgram } from './program.js';

/**
 * The packages' error classes, loaded only when an error is to be told: a command starts with what
 * it imports itself (`joules watch` without the runner, DuckDB or the config schemas).
 */
async function errorClasses() {
  const [{ ConfigError }, { LauncherError, LauncherLoadError, LaunchOptionsError }, { RunnerError }, { TrackerError }] =
    await Promise.all([
      import('@joules/config'),
      import('@joules/launcher'),
      import('@joules/runner'),
      import('@joules/tracker'),
    ]);
  return { ConfigError, LauncherError, LauncherLoadError, LaunchOptionsError, RunnerError, TrackerError };
}

/** The error of a command as a message and an exit code (no stack trace for known failures). */
async function exitFor(error: unknown, output: Output): Promise<number> {
  if (error instanceof CommanderError) {
    // Help asked for: 0; help shown because nothing was asked (`joules`), bad flags or arguments: 2.
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof ExitError) {
    output.err(error.message);
    return error.exitCode;
  }
  const { ConfigError, LauncherError, LauncherLoadError, LaunchOptionsError, RunnerError, TrackerError } =
    await errorClasses();
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
  output.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  output.err('This is a bug in Joules: please report it with the command and the log file.');
  return EXIT.failed;
}

/** The whole CLI as a function: tests call it with argv; the bin passes process.argv. */
export async function runMain(rawArgs: readonly string[], output: Output = consoleOutput()): Promise<number> {
  const controller = new AbortController();
  const ctx: ActionContext = { output, signal: controller.signal, code: EXIT.ok };
  const program = buildProgram(ctx);
  const [name] = rawArgs;
  if (name && !name.startsWith('-') && name !== 'help' && !program.commands.some((c) => c.name() === name)) {
    output.err(`unknown command "${name}"; try \`joules --help\``);
    return EXIT.usage;
  }
  // First Ctrl-C / SIGTERM: stop running experiments gracefully (signal forwarded, then SIGKILL
  // after a grace period), mark them interrupted, exit 130. A second one kills at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      output.err(`${sig} again: killing every worker now`);
      // The runner is loaded already when a command runs workers.
      void import('@joules/runner')
        .then(({ killRunningWorkers }) => killRunningWorkers('SIGKILL'))
        .finally(() => process.exit(EXIT.interrupted));
      return;
    }
    output.err(`\n${sig}: stopping the running experiment(s)… (again to kill at once)`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await program.parseAsync([...rawArgs], { from: 'user' });
    return ctx.code;
  } catch (error) {
    if (error instanceof CommanderError && error.code === 'commander.help' && rawArgs[0] === 'help') return EXIT.ok;
    return exitFor(error, output);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
