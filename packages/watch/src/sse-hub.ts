import type { ServerResponse } from 'node:http';

export interface SseHubOptions {
  /** A client with more than this many bytes still unsent is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A comment line this often keeps proxies from closing idle streams (default 15 s). */
  heartbeatMs?: number;
}

/**
 * Server-sent event clients. Writes never wait for a client: a client that does not read (its
 * socket buffer passes `maxBufferedBytes`) is dropped, so a stuck browser never holds up the run.
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  #dropped = 0;

  constructor(options: SseHubOptions = {}) {
    this.#maxBuffered = options.maxBufferedBytes ?? 1 << 20;
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Clients dropped for reading too slowly. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Start an event stream on `res`; `first` events are sent to this client only. */
  add(res: ServerResponse, first: ReadonlyArray<{ event: string; data: unknown }> = []): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const f of first) res.write(frame(f.event, f.data));
    this.#clients.add(res);
    const remove = () => this.#clients.delete(res);
    res.on('close', remove);
    res.on('error', remove);
  }

  send(event: string, data: unknown): void {
    if (this.#clients.size) this.#write(frame(event, data));
  }

  /** End every stream; what was sent reaches a reading client (at most `graceMs` waited, then cut). */
  async close(graceMs = 1000): Promise<void> {
    clearInterval(this.#heartbeat);
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(
      clients.map(
        (res) =>
          new Promise<void>((resolve) => {
            const cut = setTimeout(() => {
              res.destroy();
              resolve();
            }, graceMs);
            res.once('close', () => {
              clearTimeout(cut);
              resolve();
            });
            res.end();
          }),
      ),
    );
  }

  #write(text: string): void {
    for (const res of this.#clients) {
      if (res.destroyed || res.writableLength > this.#maxBuffered) {
        this.#clients.delete(res);
        this.#dropped++;
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
