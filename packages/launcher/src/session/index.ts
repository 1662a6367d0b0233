export { loadSettings, loadSettingsDiff, loadSettingsKey, sessionSupport } from './load-settings.js';
export type { SessionOutcome, WorkerSessionOptions } from './worker-session.js';
export { WorkerSession } from './worker-session.js';
