import { AUTO_ORDER, ENERGY_BACKEND_NAMES, ENERGY_BACKENDS } from './energy-backend-table.js';
import { ENGINE_NAMES, ENGINES, type EngineTraits } from './engine-table.js';

/**
 * contract/engines.json: the engine and energy-backend tables as the worker sees them (snake_case,
 * no TS-only parts). A pytest holds the worker's registries (joules_worker.engines.ENGINES,
 * joules_worker.energy.BACKENDS and AUTO_ORDER) and their classes' traits to it.
 */
export function enginesContract() {
  const engine = (t: EngineTraits) => ({
    sections: Object.keys(t.sections),
    starts_server: t.startsServer,
    supports_sessions: t.supportsSessions,
    side_files: Object.entries(t.sideFiles).map(([role, f]) => ({
      role,
      worker: f.worker,
      name: f.name,
      kind: f.kind,
      required: f.required,
    })),
    column_groups: t.columnGroups,
    rules: t.rules.map((r) => r.name),
  });
  return {
    engines: Object.fromEntries(ENGINE_NAMES.map((n) => [n, engine(ENGINES[n])])),
    energy_backends: Object.fromEntries(
      ENERGY_BACKEND_NAMES.map((n) => {
        const b = ENERGY_BACKENDS[n];
        return [n, { reads: b.reads, mid_span: b.midSpan, host_scoped: b.hostScoped, needs_gpus: b.needsGpus }];
      }),
    ),
    auto_order: AUTO_ORDER,
  };
}
