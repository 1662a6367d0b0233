/** The only place that writes to the terminal. Commands get an Output; tests capture it. */
export interface Output {
  /** Results: stdout. */
  out(line: string): void;
  /** Progress, warnings, errors: stderr. */
  err(line: string): void;
  color: boolean;
}

export function consoleOutput(env: NodeJS.ProcessEnv = process.env): Output {
  const color = !env.NO_COLOR && env.TERM !== 'dumb' && Boolean(process.stderr.isTTY);
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    color,
  };
}

export function captureOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, color: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

const wrap = (code: string) => (o: Output, s: string) => (o.color ? `\u001b[${code}m${s}\u001b[0m` : s);
export const bold = wrap('1');
export const red = wrap('31');
export const dim = wrap('2');
export const green = wrap('32');
