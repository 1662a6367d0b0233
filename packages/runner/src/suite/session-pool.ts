import {
  type Launcher,
  type LaunchJob,
  type LaunchOptions,
  type LaunchOutcome,
  loadSettingsKey,
  type SessionOutcome,
  WorkerSession,
} from '@joules/launcher';
import type { EventSink } from '../events.js';

/**
 * A launcher that runs each attempt in a worker session (model reuse): an idle live session with
 * the attempt's load settings takes it, else a new session starts (the model loads). A failed
 * attempt kills its session's process tree (WorkerSession does), so a retry always starts a fresh
 * session, and the experiments after it reuse that one. Idle sessions of other load settings are
 * closed before a new one starts: their memory is freed first.
 */
export class SessionPool implements Launcher {
  readonly name: string;
  private readonly sessions = new Map<WorkerSession, { id: string; model: string; busy: boolean; keys: string[] }>();
  private count = 0;

  constructor(
    private readonly base: Launcher,
    private readonly emit: EventSink,
    private readonly keyOf: (job: LaunchJob) => string = (job) => job.id ?? job.experiment.config_name,
  ) {
    this.name = base.name;
    if (base.command) this.command = base.command.bind(base);
  }

  readonly command?: Launcher['command'];

  async launch(job: LaunchJob, options: LaunchOptions = {}): Promise<LaunchOutcome> {
    const key = loadSettingsKey(job.experiment);
    let session = [...this.sessions].find(([s, info]) => !info.busy && s.alive && s.key === key)?.[0];
    if (!session) {
      await Promise.all(
        [...this.sessions].filter(([s, info]) => !info.busy && s.key !== key).map(([s]) => this.end(s, 'done')),
      );
      session = new WorkerSession(this.base, {
        ...(job.killGraceMs !== undefined && { killGraceMs: job.killGraceMs }),
      });
      this.count += 1;
      this.sessions.set(session, {
        id: `session-${this.count}`,
        model: job.experiment.model_name,
        busy: false,
        keys: [],
      });
    }
    const info = this.sessions.get(session)!;
    info.busy = true;
    info.keys.push(this.keyOf(job));
    if (info.keys.length === 1)
      this.emit({ type: 'session-started', sessionId: info.id, model: info.model, key: info.keys[0]! });
    let outcome: SessionOutcome | undefined;
    try {
      outcome = await session.run(job, options);
      return outcome;
    } finally {
      info.busy = false;
      if (!session.alive) await this.end(session, outcome?.status === 'interrupted' ? 'interrupted' : 'failed');
    }
  }

  private async end(session: WorkerSession, reason: 'done' | 'failed' | 'interrupted'): Promise<void> {
    const info = this.sessions.get(session);
    if (!info) return;
    this.sessions.delete(session);
    await session.close();
    this.emit({ type: 'session-ended', sessionId: info.id, model: info.model, reason, experiments: info.keys.length });
  }

  /** Close every session (EOF: each worker exits; trees that linger are killed). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((s) => this.end(s, 'done')));
  }
}
