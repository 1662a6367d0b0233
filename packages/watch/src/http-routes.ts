import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { hostHeaderIsLoopback, requestToken, tokenMatches } from './auth.js';
import { resolveInside } from './safe-path.js';

const SECURITY = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

// Files of a results folder are data: never served as something a browser would run.
const FILE_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.csv': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.parquet': 'application/octet-stream',
};

export function send(
  res: ServerResponse,
  code: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(code, {
    ...SECURITY,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const plain = (res: ServerResponse, code: number, text: string, extra?: Record<string, string>) =>
  send(res, code, 'text/plain; charset=utf-8', `${text}\n`, extra);

/** Read-only, token (when set, on every request) and, without a token, loopback Host names only. */
export function admit(req: IncomingMessage, res: ServerResponse, token: string | undefined): URL | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, 'read-only: GET and HEAD only', { allow: 'GET, HEAD' });
    return undefined;
  }
  const raw = req.url ?? '';
  if (!raw.startsWith('/')) {
    plain(res, 400, 'bad request target');
    return undefined;
  }
  const url = new URL(raw, 'http://joules.invalid');
  if (token !== undefined) {
    if (!tokenMatches(requestToken(req, url), token)) {
      plain(res, 401, 'a token is required: Authorization: Bearer <token>, or ?token=<token>', {
        'www-authenticate': 'Bearer realm="joules watch"',
      });
      return undefined;
    }
  } else if (!hostHeaderIsLoopback(req)) {
    plain(res, 403, 'this watch serves loopback names only (start it with --token to serve other hosts)');
    return undefined;
  }
  return url;
}

/** `/files/<path>`: a file of the results folder, never anything outside it. `rawPath` is still encoded. */
export async function serveFile(res: ServerResponse, root: string, rawPath: string): Promise<void> {
  const file = await resolveInside(root, rawPath);
  const info = file ? await stat(file).catch(() => undefined) : undefined;
  if (!file || !info?.isFile()) return plain(res, 404, 'not found');
  res.writeHead(200, {
    ...SECURITY,
    'content-type': FILE_TYPES[path.extname(file)] ?? 'text/plain; charset=utf-8',
    'content-length': String(info.size),
  });
  if (res.req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

export const pageHeaders = { 'content-security-policy': PAGE_CSP };
export { plain };
