import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AccelerateLauncher } from './accelerate-launcher.js';
import { LauncherLoadError } from './errors.js';
import type { Launcher } from './launcher.js';
import { PythonLauncher } from './python-launcher.js';

export interface LoadLauncherOptions {
  /** Module paths are resolved from here (the config file's folder). */
  cwd: string;
  /** For `accelerate`: the accelerate executable beside the worker's Python. */
  accelerateBin?: string;
  /** For `python`: the Python that has joules_worker. */
  pythonBin?: string;
}

/** A module's default export may be a factory; it receives the options given to `loadLauncher`. */
export type LauncherFactory = (options: LoadLauncherOptions) => Launcher | Promise<Launcher>;

/** An object with a string `name` and a `launch` function (and `command`, if any, a function). */
export function isLauncher(value: unknown): value is Launcher {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    v.name !== '' &&
    typeof v.launch === 'function' &&
    (v.command === undefined || typeof v.command === 'function')
  );
}

const isModulePath = (spec: string) => /^(\.{1,2}\/|\/|file:)/.test(spec);
const isClass = (fn: unknown) => typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
const describe = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? `an object with keys ${Object.keys(v).join(', ') || '(none)'}`
        : typeof v;

/**
 * The launcher a config names (`launch.launcher`): `accelerate`, `python`, or a module path
 * (`./my-launcher.mjs`, relative to `cwd`) whose default export is a Launcher, a factory returning
 * one (sync or async), or a class constructed with the options. Errors say what was wrong.
 */
export async function loadLauncher(spec: string, options: LoadLauncherOptions): Promise<Launcher> {
  if (spec === 'accelerate' || spec === 'python') {
    const bin = spec === 'accelerate' ? options.accelerateBin : options.pythonBin;
    if (!bin) {
      const field = spec === 'accelerate' ? 'accelerateBin' : 'pythonBin';
      throw new LauncherLoadError(`launcher "${spec}" needs the ${field} option`, 'LAUNCHER_OPTION_MISSING');
    }
    return spec === 'accelerate'
      ? new AccelerateLauncher({ accelerateBin: bin })
      : new PythonLauncher({ pythonBin: bin });
  }
  if (!isModulePath(spec)) {
    throw new LauncherLoadError(
      `launch.launcher: unknown launcher "${spec}"; use "accelerate", "python" or a module path such as "./my-launcher.mjs"`,
      'UNKNOWN_LAUNCHER',
    );
  }
  const file = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(options.cwd, spec);
  if (!existsSync(file)) {
    throw new LauncherLoadError(
      `launch.launcher: module ${spec} not found (looked for ${file})`,
      'LAUNCHER_MODULE_NOT_FOUND',
    );
  }
  let exported: unknown;
  try {
    exported = ((await import(/* @vite-ignore */ pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (cause) {
    throw new LauncherLoadError(
      `launch.launcher: cannot import ${file}: ${cause instanceof Error ? cause.message : String(cause)}`,
      'LAUNCHER_MODULE_FAILED',
      { cause },
    );
  }
  let launcher = exported;
  if (typeof exported === 'function' && !isLauncher(exported)) {
    try {
      launcher = isClass(exported)
        ? new (exported as new (o: LoadLauncherOptions) => unknown)(options)
        : await (exported as LauncherFactory)(options);
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new LauncherLoadError(
        `launch.launcher: the factory exported by ${file} threw: ${why}`,
        'LAUNCHER_MODULE_FAILED',
        { cause },
      );
    }
  }
  if (!isLauncher(launcher)) {
    const got =
      exported === undefined
        ? 'no default export'
        : launcher === exported
          ? describe(exported)
          : `a factory that returned ${describe(launcher)}`;
    throw new LauncherLoadError(
      `launch.launcher: ${file} does not export a launcher: the default export must be an object with a "name" string and a "launch" function, or a function returning one; got ${got}`,
      'NOT_A_LAUNCHER',
    );
  }
  return launcher;
}
