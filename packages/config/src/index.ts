export { canonicalJson, configHash, effectiveConfigHash } from './config-hash.js';
export type { EnergyBackendName, EnergyBackendTraits, EnergyScope } from './engines/energy-backend-table.js';
export {
  AUTO_ORDER,
  backendTraits,
  ENERGY_BACKEND_NAMES,
  ENERGY_BACKENDS,
  isEnergyBackend,
  plannedBackend,
} from './engines/energy-backend-table.js';
export type { EngineName, EngineSideFile, EngineTraits } from './engines/engine-table.js';
export { ENGINE_NAMES, ENGINES, engineTraits, isEngine, startsServer } from './engines/engine-table.js';
export { enginesContract } from './engines/engines-contract.js';
export { ConfigError, ConfigFileError, ConfigValidationError } from './errors.js';
export type { ExpandOptions, InvalidCombination, SuiteExpansion, SuiteExperiment } from './expand.js';
export { expandSuite } from './expand.js';
export type { Experiment, ExperimentInput, ExperimentKey } from './experiment-schema.js';
export {
  BatchingSchema,
  DatasetSchema,
  DecodingSchema,
  EnergySchema,
  EngineSchema,
  ExperimentSchema,
  LaunchSchema,
  LoadSchema,
  MachinesSchema,
  ModelSchema,
  RetrySchema,
  SERVER_PLACEHOLDERS,
  ServerSchema,
  ShardingSchema,
  SloSchema,
  SlurmSchema,
  TrafficSchema,
} from './experiment-schema.js';
export type { ConfigKind } from './extends.js';
export { detectConfigKind } from './extends.js';
export type { GpuSettings } from './gpu-section.js';
export { controlsGpus, GPU_LIMITS, GpuSchema, gpuControlTargets, gpuKeysSet } from './gpu-section.js';
export { configJsonSchema, experimentJsonSchema, suiteJsonSchema } from './json-schema.js';
export type { LoadedConfig, LoadedExperiment, LoadedSuite, LoadOptions } from './load.js';
export { loadConfigFile, loadExperimentFile, loadSuiteFile } from './load.js';
export type { ParseResult } from './parse.js';
export { formatIssues, formatPath, parseExperiment } from './parse.js';
export { resolveExperimentPaths } from './paths.js';
export { applyRules } from './rules.js';
export type { ColumnTypeOf } from './search-check.js';
export { rangeValues } from './search-check.js';
export { derivePoint } from './search-points.js';
export type { SearchConstraint, SearchInput, SearchSpec } from './search-schema.js';
export { SearchSchema } from './search-schema.js';
export type { SetOverride } from './set-overrides.js';
export { parseSetOverrides } from './set-overrides.js';
export type { SharedHostJob } from './shared-host.js';
export { energyHostShared, hostScopeEnergy, sharedHostProblems } from './shared-host.js';
export type { ConfigShow } from './show.js';
export { showConfig } from './show.js';
export { seededShuffle } from './shuffle.js';
export { readConfigFile } from './source.js';
export { parseSuite } from './suite-check.js';
export type { Suite, SuiteInput, SuiteModel } from './suite-schema.js';
export { ExperimentOverridesSchema, SuiteBaseSchema, SuiteModelSchema, SuiteSchema } from './suite-schema.js';
