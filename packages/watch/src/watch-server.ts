import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunnerEvent } from '@joules/runner';
import { isLoopback } from './auth.js';
import { WatchListenError, WatchOptionsError } from './errors.js';
import { FolderReader } from './folder-reader.js';
import { admit, pageHeaders, plain, send, serveFile } from './http-routes.js';
import { LiveRuns } from './live-runs.js';
import { renderWatchPage } from './page/page-html.js';
import { resultsChartSpec } from './page/results-chart.js';
import { renderMetrics } from './prometheus.js';
import { SseHub } from './sse-hub.js';
import { buildStatus, type WatchStatus } from './watch-status.js';

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
  const reader = await FolderReader.open(options.resultsDir);
  const live = new LiveRuns();
  const hub = new SseHub({
    ...(options.maxBufferedBytes !== undefined && { maxBufferedBytes: options.maxBufferedBytes }),
  });
  const page = renderWatchPage(options.title ?? 'Joules watch');
  let isLive = false;
  let error: string | null = null;
  let chart: { signature: string; spec: Record<string, unknown> } | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** Re-read the folder (one at a time) and rebuild the status. */
  const current = (): Promise<WatchStatus> => {
    const next = queue.then(async () => {
      try {
        await reader.refresh();
        error = null;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        problem(e);
      }
      const status = buildStatus(reader.data, live, { resultsDir: reader.root, live: isLive, error });
      const signature = JSON.stringify([status.factor, status.results.length, status.results.at(-1)?.experiment_id]);
      if (chart?.signature !== signature) chart = { signature, spec: resultsChartSpec(status.factor, status.results) };
      return status;
    });
    queue = next.catch(() => {});
    return next;
  };

  let timer: NodeJS.Timeout | undefined;
  let lastChart: string | undefined;
  const broadcast = async () => {
    timer = undefined;
    const status = await current();
    hub.send('status', status);
    if (chart && chart.signature !== lastChart) {
      lastChart = chart.signature;
      hub.send('chart', chart.spec);
    }
  };
  const schedule = () => {
    if (!timer && hub.size) timer = setTimeout(() => broadcast().catch(problem), options.throttleMs ?? 250);
  };
  let lastSignature = '';
  const poll = setInterval(() => {
    if (!hub.size) return; // nobody to tell: /api/status and /metrics read the folder when asked
    current().then((s) => {
      const signature = JSON.stringify([
        s.experiments.map((e) => e.status),
        s.results.length,
        s.failures.length,
        s.error,
      ]);
      if (signature !== lastSignature) {
        lastSignature = signature;
        schedule();
      }
    }, problem);
  }, options.pollMs ?? 1000);
  poll.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = admit(req, res, options.token);
    if (!url) return;
    const rawPath = (req.url ?? '/').split('?')[0]!;
    if (rawPath === '/' || rawPath === '/index.html')
      return send(res, 200, 'text/html; charset=utf-8', page, pageHeaders);
    if (rawPath === '/api/status') return send(res, 200, 'application/json', JSON.stringify(await current()));
    if (rawPath === '/metrics') {
      const status = await current();
      return send(
        res,
        200,
        'text/plain; version=0.0.4; charset=utf-8',
        renderMetrics(status, reader.data.entries, { clients: hub.size, dropped: hub.dropped }),
      );
    }
    if (rawPath === '/events') {
      const status = await current();
      hub.add(res, { event: 'status', data: status });
      if (chart) res.write(`event: chart\ndata: ${JSON.stringify(chart.spec)}\n\n`);
      return;
    }
    if (rawPath.startsWith('/files/')) return serveFile(res, reader.root, rawPath.slice('/files/'.length));
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
        isLive = true;
        if (live.apply(event)) schedule();
      } catch (e) {
        problem(e);
      }
    },
    status: current,
    async close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      // The pages get the final picture before the streams end.
      if (hub.size) await broadcast().catch(problem);
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
