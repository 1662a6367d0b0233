import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { LaunchSetupError } from '../errors.js';
import type { CommandLine } from '../launcher.js';
import { LAUNCH_MARKER, newLaunchId, signalTree, trackLaunch, untrackLaunch, waitTreeGone } from '../process-tree.js';

export interface SessionExit {
  exitCode: number | null;
  signal: string | null;
  /** Processes of the tree still alive after the final SIGKILL sweep (normally none). */
  survivors: number[];
}

export interface SessionProcessHandlers {
  /** One stdout line (events and logs). */
  line(text: string): void;
  /** A chunk of stderr (logs). */
  stderr(chunk: Buffer): void;
}

/**
 * The long-lived worker of a session: its own process group, every process marked with
 * JOULES_LAUNCH_ID (process-tree.ts) and tracked for `killRunningLaunches`, stdin kept open for the
 * runner's messages. `exited` resolves once the launcher process is gone AND the marked tree is
 * swept (SIGKILL) and waited for, as `runProcess` does for one-shot launches.
 */
export class SessionProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<SessionExit>;
  private readonly launchId = newLaunchId();
  private readonly child;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly cmd: CommandLine,
    handlers: SessionProcessHandlers,
    private readonly graceMs: number,
  ) {
    this.child = execa(cmd.file, cmd.args, {
      env: { ...cmd.env, [LAUNCH_MARKER]: this.launchId },
      extendEnv: true,
      detached: true,
      reject: false,
      buffer: false,
      stdin: 'pipe',
    });
    this.pid = this.child.pid;
    if (this.pid !== undefined) trackLaunch(this.launchId, this.pid);
    this.child.stdin?.on('error', () => {}); // EPIPE once the worker is gone: its exit tells the story
    const lines = this.child.stdout ? createInterface({ input: this.child.stdout, crlfDelay: Infinity }) : undefined;
    lines?.on('line', (line) => handlers.line(line));
    this.child.stderr?.on('data', (chunk: Buffer) => handlers.stderr(chunk));
    // The launcher process died: whatever of its tree still runs is an orphan (unless a stop is
    // under way, which gives it its grace period).
    this.child.once(
      'exit',
      () => this.pid !== undefined && !this.stopping && void signalTree(this.pid, this.launchId, 'SIGKILL'),
    );
    const linesClosed = new Promise<void>((resolve) => (lines ? lines.once('close', resolve) : resolve()));
    this.exited = this.watch(linesClosed);
  }

  private async watch(linesClosed: Promise<void>): Promise<SessionExit> {
    const result = await this.child;
    await linesClosed;
    let survivors: number[] = [];
    if (this.pid !== undefined) {
      await signalTree(this.pid, this.launchId, 'SIGKILL');
      survivors = await waitTreeGone(this.launchId, this.graceMs + 2000);
    }
    if (this.killTimer) clearTimeout(this.killTimer);
    untrackLaunch(this.launchId);
    if (result.exitCode === undefined && result.signal === undefined) {
      throw new LaunchSetupError(`cannot start ${this.cmd.file}: ${result.shortMessage ?? result.message}`, {
        cause: result,
      });
    }
    return { exitCode: result.exitCode ?? null, signal: result.signal ?? null, survivors };
  }

  /** Write one line to the worker's stdin. */
  send(line: string): void {
    this.child.stdin?.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** EOF on stdin: the worker ends the session after what it runs now. */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** The polite signal to the whole tree now, SIGKILL after the grace period. Idempotent. */
  stop(signal: NodeJS.Signals): void {
    if (this.pid === undefined || this.stopping) return;
    this.stopping = true;
    void signalTree(this.pid, this.launchId, signal);
    this.killTimer = setTimeout(() => void signalTree(this.pid as number, this.launchId, 'SIGKILL'), this.graceMs);
  }
}
