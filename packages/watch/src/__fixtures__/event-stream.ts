import { request } from 'node:http';
import type { WatchDelta, WatchStatus } from '../index.js';

export interface StreamEvent {
  event: string;
  data: unknown;
  /** Bytes of the frame as sent. */
  bytes: number;
}

/** The events of a server-sent event stream's text (comments and `retry:` skipped). */
export function parseEvents(text: string): StreamEvent[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('event: '))
    .map((f) => {
      const [head, ...data] = f.split('\ndata: ');
      return {
        event: head!.slice('event: '.length),
        data: JSON.parse(data.join('\ndata: ')),
        bytes: Buffer.byteLength(`${f}\n\n`),
      };
    });
}

/** The status a page holds after these events: the last `status`, with the `delta`s after it applied as the page does. */
export function replay(events: readonly StreamEvent[]): WatchStatus {
  let status: WatchStatus | undefined;
  for (const { event, data } of events) {
    if (event === 'status') status = structuredClone(data as WatchStatus);
    if (event !== 'delta' || !status) continue;
    const d = data as WatchDelta;
    const { results, failures, experiments: _, experimentsChanged: __, chart, serving, ...whole } = d;
    Object.assign(status, whole);
    if (results) status.results = [...status.results, ...results].slice(-50);
    if (failures) status.failures = [...status.failures, ...failures].slice(-50);
    if (chart) {
      const { groups, replace, ...head } = chart;
      const byKey = new Map(replace ? [] : status.chart.groups.map((g) => [g.key, g]));
      for (const g of groups) byKey.set(g.key, g);
      status.chart = { ...head, groups: [...byKey.values()] };
    }
    if (serving === null) status.serving = null;
    else if (serving) {
      const { points, replace, ...head } = serving;
      const byKey = new Map(replace || !status.serving ? [] : status.serving.points.map((p) => [p.key, p]));
      for (const p of points) byKey.set(p.key, p);
      status.serving = { ...head, points: [...byKey.values()] };
    }
  }
  if (!status) throw new Error('no status event');
  return status;
}

/** A reading client of /events: everything it received so far, and how to stop it. */
export function listen(port: number): {
  text: () => string;
  bytes: () => number;
  ended: Promise<void>;
  stop: () => void;
} {
  const chunks: Buffer[] = [];
  let req: ReturnType<typeof request>;
  const ended = new Promise<void>((resolve, reject) => {
    req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', resolve)
        .on('error', () => resolve());
    });
    req.on('error', reject).end();
  });
  return {
    text: () => Buffer.concat(chunks).toString('utf8'),
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
    ended,
    stop: () => req.destroy(),
  };
}
