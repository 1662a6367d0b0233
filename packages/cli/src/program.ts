import { Command, Option } from 'commander';
import type { CommandInput, CommandSpec, OptionSpec } from './command-spec.js';
import { COMMANDS } from './command-table.js';
import type { Output } from './output.js';

/** What an action needs beyond its arguments; it sets `code` (the command's exit code). */
export interface ActionContext {
  output: Output;
  signal: AbortSignal;
  code: number;
}

function toOption(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description);
  if (spec.parse) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
  if (spec.default !== undefined) option.default(spec.default);
  return option;
}

/** A command of the table (and its subcommands) under `parent`; its action sets `ctx.code`. */
function addCommand(parent: Command, spec: CommandSpec, ctx: ActionContext): void {
  const command = parent.command(spec.name).description(spec.description);
  const args = spec.args ?? [];
  for (const a of args) command.argument(a.syntax, a.description);
  for (const o of spec.options ?? []) command.addOption(toOption(o));
  const { run } = spec;
  if (run) {
    // Commander calls an action with the positional values, then the options object.
    command.action(async (...values: unknown[]) => {
      const input: CommandInput = { ...(values[args.length] as CommandInput) };
      for (const [i, a] of args.entries()) input[a.name] = values[i];
      ctx.code = await run(input, ctx);
    });
  }
  for (const sub of spec.subcommands ?? []) addCommand(command, sub, ctx);
  if (spec.example) command.addHelpText('after', `\nExample: ${spec.example}`);
}

/** The `joules` command tree, built from the command table; `ctx.code` holds the exit code of the action that ran. */
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
  for (const spec of COMMANDS) addCommand(program, spec, ctx);
  return program;
}
