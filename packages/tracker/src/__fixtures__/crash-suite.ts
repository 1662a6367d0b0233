import { progressKey } from '../progress/key.js';

export const CRASH_COLUMNS = ['experiment_id', 'key', 'model', 'note', 'value'];

/** 600 keys over 4 models; every 13th fails its first attempt. */
export const crashSuite = () =>
  Array.from({ length: 4 * 150 }, (_, i) => ({
    key: progressKey({
      model_name: `org/model-${i % 4}`,
      suite: 'crash',
      config_name: `c${Math.floor(i / 4)}`,
      cycle_id: 1,
    }),
    configHash: `hash-${i}`,
    failsFirst: i % 13 === 0,
  }));
