export {
  ExperimentSchema,
  ModelSchema,
  DatasetSchema,
  BatchingSchema,
  DecodingSchema,
  ShardingSchema,
  LaunchSchema,
  SlurmSchema,
  MachinesSchema,
  TrafficSchema,
  EnergySchema,
  RetrySchema,
  EngineSchema,
  ServerSchema,
  LoadSchema,
  SloSchema,
  SERVER_PLACEHOLDERS,
} from './experiment-schema.js';
export type { Experiment, ExperimentInput, ExperimentKey } from './experiment-schema.js';
export { SuiteSchema, ExperimentOverridesSchema, SuiteModelSchema, SuiteBaseSchema } from './suite-schema.js';
export type { Suite, SuiteInput, SuiteModel } from './suite-schema.js';
export { parseExperiment, formatIssues, formatPath } from './parse.js';
export type { ParseResult } from './parse.js';
export { parseSuite } from './suite-check.js';
export { applyRules } from './rules.js';
export { expandSuite } from './expand.js';
export type { ExpandOptions, SuiteExpansion, SuiteExperiment, InvalidCombination } from './expand.js';
export { parseSetOverrides } from './set-overrides.js';
export type { SetOverride } from './set-overrides.js';
export { loadConfigFile, loadExperimentFile, loadSuiteFile } from './load.js';
export type { LoadOptions, LoadedConfig, LoadedExperiment, LoadedSuite } from './load.js';
export { detectConfigKind } from './extends.js';
export type { ConfigKind } from './extends.js';
export { readConfigFile } from './source.js';
export { resolveExperimentPaths } from './paths.js';
export { showConfig } from './show.js';
export type { ConfigShow } from './show.js';
export { configHash, canonicalJson, effectiveConfigHash } from './config-hash.js';
export { hostScopeEnergy, sharedHostProblems, energyHostShared } from './shared-host.js';
export type { SharedHostJob } from './shared-host.js';
export { experimentJsonSchema, suiteJsonSchema, configJsonSchema } from './json-schema.js';
export { ConfigError, ConfigFileError, ConfigValidationError } from './errors.js';
