import { TrackerInputError } from '../errors.js';

/** The four parts of a progress key `model::suite::config::cycle` (no suite or cycle: empty). */
export interface KeyParts {
  model: string;
  suite: string | null;
  config: string;
  cycle: number | null;
}

const SEP = '::';

/**
 * The progress key of an experiment: `model::suite::config::cycle`, as the original tool wrote
 * it; a missing suite or cycle is an empty part. Takes an Experiment (or its four fields).
 */
export function progressKey(e: {
  model_name: string;
  suite: string | null;
  config_name: string;
  cycle_id: number | null;
}): string {
  if (!e.model_name) throw new TrackerInputError('model_name: must not be empty');
  if (!e.config_name || e.config_name.includes(SEP))
    throw new TrackerInputError(`config_name: must be non-empty without "${SEP}" ("${e.config_name}")`);
  if (e.suite?.includes(SEP)) throw new TrackerInputError(`suite: may not contain "${SEP}" ("${e.suite}")`);
  if (e.cycle_id !== null && !(Number.isInteger(e.cycle_id) && e.cycle_id >= 0))
    throw new TrackerInputError(`cycle_id: expected a whole number ≥ 0, got ${e.cycle_id}`);
  return [e.model_name, e.suite ?? '', e.config_name, e.cycle_id ?? ''].join(SEP);
}

/** Split a key made by progressKey (a model name may itself hold "::": it is read from the right). */
export function parseProgressKey(key: string): KeyParts {
  const parts = key.split(SEP);
  if (parts.length < 4) throw new TrackerInputError(`progress key "${key}": expected model::suite::config::cycle`);
  const cycle = parts.pop()!;
  const config = parts.pop()!;
  const suite = parts.pop()!;
  if (cycle !== '' && !/^\d+$/.test(cycle))
    throw new TrackerInputError(`progress key "${key}": cycle "${cycle}" is not a whole number`);
  return {
    model: parts.join(SEP),
    suite: suite === '' ? null : suite,
    config,
    cycle: cycle === '' ? null : Number(cycle),
  };
}
