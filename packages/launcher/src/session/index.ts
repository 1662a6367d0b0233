export { WorkerSession } from './worker-session.js';
export type { SessionOutcome, WorkerSessionOptions } from './worker-session.js';
export { loadSettings, loadSettingsKey, loadSettingsDiff, sessionSupport } from './load-settings.js';
