import type { Experiment } from '@joules/config';
import { formatCommandLine } from '../command-lines.js';
import { SessionError } from '../errors.js';
import { reservePort } from '../free-port.js';
import type { CommandLine, Launcher, LaunchJob } from '../launcher.js';
import { withPrivateConfigFile } from '../private-config-file.js';

/** The worker command of a session, started for its first job, and what it holds meanwhile. */
export interface SessionCommand {
  /** launcher.command() with `--session` appended, job.env over its environment. */
  cmd: CommandLine;
  /** The launcher's command line with `--session`, as the log's first header shows it. */
  shown: string;
  /** Give the rendezvous port back and remove the private config file (when the session is gone). */
  release: () => void;
}

/**
 * Reserve the rendezvous port (job.port, or a free one no other launch holds), write the first
 * experiment to a private config file kept for the session's life, and ask the launcher for the
 * command. Whatever was taken is given back when this throws.
 */
export async function sessionCommand(launcher: Launcher, job: LaunchJob): Promise<SessionCommand> {
  const lease = job.port === undefined ? await reservePort() : { port: job.port, release: () => {} };
  let held: { file: string; release: () => void };
  try {
    held = await holdPrivateConfig(job.experiment);
  } catch (e) {
    lease.release();
    throw e;
  }
  let own: CommandLine | undefined;
  try {
    own = launcher.command?.(job, held.file, lease.port);
    if (!own) throw new SessionError(`launcher ${launcher.name} has no command()`, 'SESSION_UNSUPPORTED');
  } catch (e) {
    lease.release();
    held.release();
    throw e;
  }
  const args = [...own.args, '--session'];
  return {
    cmd: { ...own, args, env: { ...own.env, ...job.env } },
    shown: formatCommandLine({ ...own, args }),
    release: () => {
      lease.release();
      held.release();
    },
  };
}

/** The experiment in a private config file (withPrivateConfigFile) held until `release()`. */
export function holdPrivateConfig(experiment: Experiment): Promise<{ file: string; release: () => void }> {
  return new Promise((resolve, reject) => {
    withPrivateConfigFile(experiment, (file) => new Promise<void>((release) => resolve({ file, release }))).catch(
      reject,
    );
  });
}
