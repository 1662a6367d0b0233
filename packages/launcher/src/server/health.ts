import { open } from 'node:fs/promises';

/** One health probe: `/health`, then `/v1/models`; true when either answers 2xx. Never throws. */
export async function probeHealth(baseUrl: string, timeoutMs = 2000): Promise<boolean> {
  for (const path of ['/health', '/v1/models']) {
    try {
      const res = await fetch(baseUrl.replace(/\/+$/, '') + path, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
    } catch {
      // Not listening yet, or no such route: try the next one.
    }
  }
  return false;
}

/** The last `maxBytes` of a log file as text ('' when there is none). */
export async function logTail(file: string, maxBytes = 4000): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - maxBytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString('utf8').trim();
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** A message with the log's tail appended (where the log has anything). */
export async function withLogTail(message: string, file: string): Promise<string> {
  const tail = await logTail(file, 2000);
  return tail ? `${message}\n--- last lines of ${file} ---\n${tail}` : `${message} (log: ${file}, empty)`;
}
