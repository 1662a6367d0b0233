import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root: `--import tsx` resolves from here. */
export const repoRoot = path.resolve(here, '../../../..');

/** Start a TypeScript fixture as a real child process, running the tracker's source. */
export function spawnFixture(name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=@joules/source', '--import', 'tsx', path.join(here, name), ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collect stdout lines; resolves when the child exits. */
export function collect(
  child: ChildProcess,
  onLine?: (line: string) => void,
): Promise<{ lines: string[]; stderr: string; code: number | null; signal: NodeJS.Signals | null }> {
  const lines: string[] = [];
  let rest = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    rest += chunk;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      lines.push(line);
      onLine?.(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ lines, stderr, code, signal }));
  });
}
