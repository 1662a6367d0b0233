import type { Output } from './output.js';

/** An option as the command table declares it; `buildProgram` makes it a commander Option. */
export interface OptionSpec {
  /** Commander's flags syntax, e.g. `--results-dir <dir>` or `--watch [port]`. */
  flags: string;
  description: string;
  /** Checks and converts each value (throws InvalidArgumentError); gets the previous value too. */
  parse?: (value: string, previous: never) => unknown;
  default?: unknown;
}

/** A command's arguments by name and its options by commander's camelCase key. */
export type CommandInput = Record<string, unknown>;

export interface CommandContext {
  output: Output;
  signal: AbortSignal;
}

/** A positional argument: `name` is its key in the CommandInput; `syntax` is commander's (`<file.yaml...>`). */
export interface ArgumentSpec {
  name: string;
  syntax: string;
  description: string;
}

/** One `joules` command, as declared here; `buildProgram` turns the table into commander commands. */
export interface CommandSpec {
  name: string;
  description: string;
  args?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** Shown after the command's help. */
  example?: string;
  /** Imports `commands/<name>.ts` only now and runs it; resolves to the exit code. */
  run?: (input: CommandInput, ctx: CommandContext) => Promise<number>;
  subcommands?: readonly CommandSpec[];
}

/** `{ key: value }` when the input has the key, else nothing (the command's own default applies). */
export const pick = <T>(input: CommandInput, key: string) =>
  input[key] === undefined ? {} : { [key]: input[key] as T };
/** A switch: true only when given. */
export const flag = (input: CommandInput, key: string) => input[key] === true;

/** An option only one command takes. */
export const opt = (flags: string, description: string, more: Partial<OptionSpec> = {}): OptionSpec => ({
  flags,
  description,
  ...more,
});
