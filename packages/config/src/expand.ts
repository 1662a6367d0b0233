import path from 'node:path';
import { canonicalJson, configHash } from './config-hash.js';
import type { Experiment } from './experiment-schema.js';
import { applyLayer, type Layer, layerOf } from './layer.js';
import { clonePlain } from './merge.js';
import { checkExperiment } from './parse.js';
import { isLocalPath, resolveExperimentPaths } from './paths.js';
import { type DocPath, formatPath, type Problem, problemText } from './problems.js';
import type { SetOverride } from './set-overrides.js';
import { seededShuffle } from './shuffle.js';
import type { Suite, SuiteModel } from './suite-schema.js';
import { listVariations, type Variation } from './variations.js';

export interface ExpandOptions {
  /** Drop invalid combinations (listed in `invalid`) instead of failing. */
  skipInvalid?: boolean;
  /** `--set` overrides; those with target "experiment" apply to every experiment, last. */
  set?: readonly SetOverride[];
  /** Where a suite path is written, e.g. `suite.yaml:12`, for messages. */
  locate?: (path: DocPath) => string | undefined;
  /** Resolve relative paths against this folder (the suite file's), so hashes match what runs. */
  baseDir?: string;
}

/** One concrete experiment of a suite. */
export interface SuiteExperiment {
  /**
   * `model_name::suite::config_name::cycle` of the experiment, as the original tool and the tracker's
   * progress keys write it; unique within the suite.
   */
  key: string;
  /** configHash of the experiment: equal across cycles of the same configuration. */
  hash: string;
  /** The model's short label (display name): its `label`, else the hub id or the folder name. */
  model: string;
  config_name: string;
  cycle: number;
  variation: { kind: Variation['kind']; name: string; factors: Record<string, unknown> };
  experiment: Experiment;
}

/** A model × configuration whose settings contradict each other (cross-field rules). */
export interface InvalidCombination {
  /** `model_name::suite::config_name` (every cycle of it). */
  key: string;
  model: string;
  config_name: string;
  reasons: string[];
}

export interface SuiteExpansion {
  experiments: SuiteExperiment[];
  invalid: InvalidCombination[];
  /** Empty exactly when `experiments` is usable: set problems, and invalid combinations unless skipped. */
  errors: string[];
  warnings: string[];
}

interface Combination {
  model: SuiteModel;
  variation: Variation;
  experiment: Experiment;
  hash: string;
}

/**
 * Expand a validated suite into concrete, validated experiments: every model × configuration ×
 * cycle, in run order (cycle by cycle; within a cycle model by model, or a seeded shuffle).
 */
export function expandSuite(suite: Suite, options: ExpandOptions = {}): SuiteExpansion {
  const { variations } = listVariations(suite);
  const locate = options.locate ?? (() => undefined);
  const setLayers: Layer[] = (options.set ?? [])
    .filter((s) => s.target === 'experiment')
    .map((s) => ({ path: s.path, value: s.value, set: s.text }));
  const { config_name: _name, ...base } = suite.base;
  const baseLayer: Layer = { path: [], value: base, doc: ['base'] };

  const combinations: Combination[] = [];
  const invalid: InvalidCombination[] = [];
  const fatal = new Set<string>();
  const warningCounts = new Map<string, number>();
  const duplicateWarnings = new Set<string>();

  suite.models.forEach((model, m) => {
    const seenSettings = new Map<string, Variation>();
    for (const variation of variations) {
      const layers: Layer[] = [
        baseLayer,
        { path: [], value: model.overrides, doc: ['models', m] },
        ...variation.pieces,
        ...setLayers,
      ];
      const input: Record<string, unknown> = {};
      for (const layer of layers) applyLayer(input, layer);
      Object.assign(input, {
        config_name: variation.name,
        model_name: model.model_name,
        suite: suite.name,
        cycle_id: null,
      });
      const checked = checkExperiment(input);
      const id = `${modelKey(model, options.baseDir)}::${suite.name}::${variation.name}`;
      const text = (p: Problem) => {
        const source = layerOf(p.path, layers);
        const where = !source ? locate(variation.doc) : 'set' in source ? `--set ${source.set}` : locate(source.doc);
        return `${where ? `${where} ` : ''}${problemText(p)}`;
      };
      for (const w of checked.warnings) warningCounts.set(text(w), (warningCounts.get(text(w)) ?? 0) + 1);
      for (const p of checked.errors) if (!p.rule) fatal.add(text(p));
      const reasons = checked.errors.filter((p) => p.rule).map(text);
      if (reasons.length) invalid.push({ key: id, model: model.label, config_name: variation.name, reasons });
      if (!checked.config) continue;

      const experiment = options.baseDir ? resolveExperimentPaths(checked.config, options.baseDir) : checked.config;
      const settings = canonicalJson({ ...experiment, config_name: null });
      const twin = seenSettings.get(settings);
      if (twin) {
        const where = locate(variation.doc);
        duplicateWarnings.add(
          `${where ? `${where} ` : ''}${formatPath(variation.doc)}: same settings as "${twin.name}"; both measure the same configuration`,
        );
      } else seenSettings.set(settings, variation);
      combinations.push({ model, variation, experiment, hash: configHash(experiment) });
    }
  });

  const total = suite.models.length * variations.length;
  const warnings = [
    ...[...warningCounts].map(([w, n]) => (total > 1 ? `${w} (${n} of ${total} combinations)` : w)),
    ...duplicateWarnings,
  ];
  const errors = [...fatal];
  if (!options.skipInvalid) {
    for (const c of invalid) errors.push(...c.reasons.map((r) => `${r} (${c.key})`));
  }
  if (errors.length) return { experiments: [], invalid, errors, warnings };
  return { experiments: cyclesOf(suite, combinations), invalid, errors: [], warnings };
}

/** The model part of keys: the experiment's model_name (as the tracker's progress keys have it). */
const modelKey = (model: SuiteModel, baseDir: string | undefined) =>
  baseDir && isLocalPath(model.model_name) ? path.resolve(baseDir, model.model_name) : model.model_name;

function cyclesOf(suite: Suite, combinations: readonly Combination[]): SuiteExperiment[] {
  const out: SuiteExperiment[] = [];
  for (let cycle = 1; cycle <= suite.cycles; cycle++) {
    const order = suite.shuffle ? seededShuffle(combinations, suite.shuffle_seed, cycle) : combinations;
    for (const c of order) {
      const experiment = cycle === 1 ? { ...c.experiment } : clonePlain(c.experiment);
      experiment.cycle_id = cycle;
      out.push({
        key: `${c.experiment.model_name}::${suite.name}::${c.variation.name}::${cycle}`,
        hash: c.hash,
        model: c.model.label,
        config_name: c.variation.name,
        cycle,
        variation: { kind: c.variation.kind, name: c.variation.name, factors: c.variation.factors },
        experiment,
      });
    }
  }
  return out;
}
