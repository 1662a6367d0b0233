import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunnerEvent } from '@joules/runner';
import { experimentsPage, failuresPage, resultsPage } from './api-pages.js';
import { isLoopback } from './auth.js';
import { WatchListenError, WatchOptionsError } from './errors.js';
import { admit, pageHeaders, plain, send, serveFile } from './http-routes.js';
import { renderWatchPage } from './page/page-html.js';
import { renderMetrics } from './prometheus.js';
import { SseHub } from './sse-hub.js';
import { StatusStream } from './status-stream.js';
import { WatchState } from './watch-state.js';
import type { WatchStatus } from './watch-status.js';

export const DEFAULT_WATCH_PORT = 9465;

export interface WatchOptions {
  resultsDir: string;
  /** Default 127.0.0.1. Any other address needs `token`. */
  host?: string;
  /** Default 9465; 0 picks a free port. */
  port?: number;
  /** Required on every request when set (Authorization: Bearer, or ?token=). */
  token?: string;
  /** How often the results folder is checked for changes (default 1000 ms). */
  pollMs?: number;
  /** At most one update per this many ms goes to the pages (default 250 ms). */
  throttleMs?: number;
  /** Drop an event-stream client with more than this unsent (default 1 MiB). */
  maxBufferedBytes?: number;
  title?: string;
  /** A problem the watch survived (a folder it could not read, a request that threw). Never thrown. */
  onProblem?: (error: unknown) => void;
}

export interface WatchServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Feed a running suite's events; never throws. */
  feed(event: RunnerEvent): void;
  /** The status as of now (the folder re-read first). */
  status(): Promise<WatchStatus>;
  readonly clients: number;
  close(): Promise<void>;
}

function checkOptions(o: WatchOptions): { host: string; port: number } {
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? DEFAULT_WATCH_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new WatchOptionsError(`port: expected an integer 0-65535, got ${port}`, 'WATCH_BAD_PORT');
  if (o.token !== undefined && o.token.length < 8)
    throw new WatchOptionsError('token: use at least 8 characters', 'WATCH_BAD_TOKEN');
  if (!isLoopback(host) && o.token === undefined) {
    throw new WatchOptionsError(
      `host ${host} is reachable from other machines: give a token (--token) to serve it`,
      'WATCH_TOKEN_REQUIRED',
    );
  }
  return { host, port };
}

/** Serve the dashboard, `/api/status`, `/metrics` and `/events` for a results folder (read-only). */
export async function startWatch(options: WatchOptions): Promise<WatchServer> {
  const { host, port } = checkOptions(options);
  const problem = (e: unknown) => {
    try {
      options.onProblem?.(e);
    } catch {}
  };
  const state = await WatchState.open(options.resultsDir);
  const hub = new SseHub({
    ...(options.maxBufferedBytes !== undefined && { maxBufferedBytes: options.maxBufferedBytes }),
  });
  // The page (the vega stack inlined, ~1.5 MB read) is made when first asked for, not before the first status.
  let page: string | undefined;
  const stream = new StatusStream(state, hub, { resultsDir: state.reader.root, onProblem: problem });
  await stream.tick();

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (!timer && hub.size)
      timer = setTimeout(() => {
        timer = undefined;
        stream.tick().catch(problem);
      }, options.throttleMs ?? 250);
  };
  // Nobody to tell: /api/status and /metrics read the folder when asked.
  const poll = setInterval(() => hub.size && stream.tick().catch(problem), options.pollMs ?? 1000);
  poll.unref();

  const json = (res: ServerResponse, body: unknown) =>
    typeof body === 'string' ? plain(res, 400, body) : send(res, 200, 'application/json', JSON.stringify(body));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = admit(req, res, options.token);
    if (!url) return;
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath === '/' || rawPath === '/index.html') {
      page ??= renderWatchPage(options.title ?? 'Joules watch');
      return send(res, 200, 'text/html; charset=utf-8', page, pageHeaders);
    }
    if (rawPath === '/api/status') return json(res, await stream.tick());
    if (rawPath === '/api/experiments') return json(res, await stream.read(() => experimentsPage(state, url)));
    if (rawPath === '/api/results') return json(res, await stream.read(() => resultsPage(state, url)));
    if (rawPath === '/api/failures') return json(res, await stream.read(() => failuresPage(state, url)));
    if (rawPath === '/metrics') {
      const status = await stream.tick();
      const body = renderMetrics({
        progress: status.progress,
        power: status.power,
        energyBySuite: state.energyBySuite,
        durations: state.tally.durations(),
        failureKinds: state.failureKinds,
        server: { clients: hub.size, dropped: hub.dropped },
      });
      return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', body);
    }
    if (rawPath === '/events') return stream.subscribe(res);
    if (rawPath.startsWith('/files/')) return serveFile(res, state.reader.root, rawPath.slice('/files/'.length));
    return plain(res, 404, 'not found');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      problem(e);
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new WatchListenError(host, port, e)));
    server.listen(port, host, () => resolve());
  }).catch((e) => {
    clearInterval(poll);
    void hub.close(0);
    throw e;
  });
  server.on('error', problem);
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}/`,
    host,
    port: address.port,
    get clients() {
      return hub.size;
    },
    feed(event) {
      try {
        stream.live = true;
        if (state.feed(event)) schedule();
      } catch (e) {
        problem(e);
      }
    },
    status: () => stream.tick(),
    async close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      // The pages get the final picture before the streams end.
      if (hub.size) await stream.tick().catch(problem);
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
