import path from 'node:path';
import type { RunnerEvent } from '@joules/runner';
import type { Output } from '../output.js';

export interface SuiteWatch {
  feed(event: RunnerEvent): void;
  close(): Promise<void>;
}

/**
 * `joules suite --watch [PORT]`: the dashboard of this suite's results folder, fed its events live.
 * The watch never fails the suite: if it cannot start, a warning says so and the suite runs alone.
 */
export async function startSuiteWatch(
  options: { port: number | true; resultsDir?: string; cwd?: string },
  output: Output,
): Promise<SuiteWatch | undefined> {
  const resultsDir = path.resolve(options.cwd ?? process.cwd(), options.resultsDir ?? 'results');
  try {
    const { startWatch } = await import('@joules/watch');
    const server = await startWatch({
      resultsDir,
      ...(options.port !== true && { port: options.port }),
      onProblem: (e) => output.err(`watch: ${e instanceof Error ? e.message : String(e)}`),
    });
    output.err(`watch: ${server.url}`);
    return server;
  } catch (error) {
    output.err(
      `warning: --watch could not start (${error instanceof Error ? error.message : String(error)}); the suite runs without it`,
    );
    return undefined;
  }
}
