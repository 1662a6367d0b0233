import path from 'node:path';
import { ConfigFileError } from './errors.js';
import { isPlainObject, mergeTracked } from './merge.js';
import { rebaseExperimentData, rebaseSuiteData } from './paths.js';
import { OriginMap, placeOf, readSource, type SourceFile } from './source.js';
import { SUITE_ONLY_KEYS } from './suite-schema.js';

export type ConfigKind = 'experiment' | 'suite';

/** A file is a suite when it has any suite-only top-level key (`models`, `base`, `cycles`, `controlled`, `grid`, `scenarios`). */
export function detectConfigKind(data: unknown): ConfigKind {
  return isPlainObject(data) && SUITE_ONLY_KEYS.some((k) => k in data) ? 'suite' : 'experiment';
}

/** A config file merged with the files it extends: plain data, and which file set each path. */
export interface LayeredConfig {
  kind: ConfigKind;
  root: SourceFile;
  data: Record<string, unknown>;
  origins: OriginMap;
  /** Problems with `extends` itself (missing parent, cycle), as `file:line extends: message`. */
  errors: string[];
}

const withoutExtends = ({ extends: _e, ...rest }: Record<string, unknown>) => rest;

/**
 * Read `file` and the files it extends (`extends: parent.yaml` or a list, relative to the file that
 * names them; later parents win, the file itself wins over all). A suite may extend suites, and
 * experiment files, which then feed its `base`. Relative paths in parents are rebased onto `file`'s
 * folder. Throws ConfigFileError only when `file` itself cannot be read or parsed.
 */
export async function loadLayered(file: string): Promise<LayeredConfig> {
  const root = await readSource(file);
  const kind = detectConfigKind(root.data);
  const rootDir = path.dirname(path.resolve(file));
  const errors: string[] = [];
  const ordered: SourceFile[] = [];
  const where = placeOf;

  const visit = async (src: SourceFile, stack: string[]): Promise<void> => {
    const ext = src.data.extends;
    const list = ext === undefined ? [] : typeof ext === 'string' ? [ext] : Array.isArray(ext) ? ext : null;
    if (!list || list.some((p) => typeof p !== 'string' || p === '')) {
      errors.push(`${where(src, ['extends'])} extends: expected a file path or a list of file paths`);
    }
    for (const [i, parent] of (list ?? []).entries()) {
      if (typeof parent !== 'string' || parent === '') continue;
      const at = where(src, typeof ext === 'string' ? ['extends'] : ['extends', i]);
      const abs = path.resolve(path.dirname(src.file), parent);
      if (stack.includes(abs)) {
        const chain = [...stack.slice(stack.indexOf(abs)), abs].map((f) => path.relative(rootDir, f) || '.');
        errors.push(`${at} extends: cycle ${chain.join(' → ')}`);
        continue;
      }
      let parentSrc: SourceFile;
      try {
        parentSrc = await readSource(path.join(path.dirname(src.file), parent)); // named like the file that names it
      } catch (cause) {
        if (!(cause instanceof ConfigFileError)) throw cause;
        errors.push(`${at} extends: ${cause.message}`);
        continue;
      }
      await visit(parentSrc, [...stack, abs]);
    }
    ordered.push(src);
  };
  await visit(root, [path.resolve(file)]);

  const data: Record<string, unknown> = {};
  const origins = new OriginMap();
  origins.set([], { src: root, path: [] });
  for (const src of ordered) {
    const dir = path.dirname(path.resolve(src.file));
    const own = withoutExtends(src.data);
    const srcKind = src === root ? kind : detectConfigKind(src.data);
    if (kind === 'experiment' && srcKind === 'suite') {
      errors.push(
        `${where(root, ['extends'])} extends: ${src.file} is a suite; an experiment can only extend experiment files`,
      );
    } else if (kind === 'suite' && srcKind === 'experiment') {
      if (!isPlainObject(data.base)) data.base = {};
      mergeTracked(
        data.base as Record<string, unknown>,
        rebaseExperimentData(own, dir, rootDir),
        origins,
        ['base'],
        (rel) => ({ src, path: rel }),
      );
    } else {
      const rebased = kind === 'suite' ? rebaseSuiteData(own, dir, rootDir) : rebaseExperimentData(own, dir, rootDir);
      mergeTracked(data, rebased, origins, [], (rel) => ({ src, path: rel }));
    }
  }
  return { kind, root, data, origins, errors };
}
