import type { ExperimentKey } from '../experiment-schema.js';
import { type Rule, rule, setKeys, warn } from '../rule.js';
import { ENGINE_NAMES, ENGINES, type EngineTraits } from './engine-table.js';

// The rules the engine table brings: another engine's sections set but ignored, then each engine's
// own rules, run only for experiments of that engine.

const table: [string, EngineTraits][] = ENGINE_NAMES.map((name) => [name, ENGINES[name]]);
const sectionOwners = table.flatMap(([owner, t]) =>
  Object.entries(t.sections).map(([key, schema]) => ({ key, schema, owner })),
);

/** Sections of other engines set but ignored: say so (their values differ from the defaults). */
const sectionsUnused = rule(
  'serving-unused',
  ['engine', ...(sectionOwners.map((s) => s.key) as ExperimentKey[])],
  (c, out) => {
    const own = ENGINES[c.engine].sections as Record<string, unknown>;
    for (const { key, schema, owner } of sectionOwners) {
      if (key in own) continue;
      const keys = setKeys(c[key as ExperimentKey] as object, schema.parse(undefined) as object);
      if (keys.length > 0)
        warn(out, key, `${keys.join(', ')} set but ignored: engine is "${c.engine}", not "${owner}"`);
    }
  },
);

/** An engine's rule, run only when the experiment is of that engine. */
const forEngine = (engine: string, r: Rule): Rule =>
  rule(r.name, r.uses.includes('engine') ? r.uses : ['engine', ...r.uses], (c, out) => {
    if (c.engine === engine) r.check(c, out);
  });

export const ENGINE_RULES: readonly Rule[] = [
  sectionsUnused,
  ...table.flatMap(([name, t]) => t.rules.map((r) => forEngine(name, r))),
];
