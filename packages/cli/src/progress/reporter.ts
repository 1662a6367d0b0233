import type { PrunedPoint, SearchResult, SuiteTally } from '@joules/runner';

/** What a suite run reports; the CLI picks a renderer (TTY bars, plain lines, NDJSON). */
export type SuiteEvent =
  | { type: 'planned'; total: number; toRun: number; skipped: number; suite: string }
  | { type: 'started'; key: string; experimentId: string; attempt: number }
  | { type: 'progress'; key: string; phase: string; i?: number; n?: number }
  | { type: 'retrying'; key: string; attempt: number; delayS: number; reason: string; batchSize?: number }
  | { type: 'finished'; key: string; experimentId: string; status: 'done' | 'failed' | 'interrupted'; detail: string }
  | { type: 'search-step'; round: number; propose: string[]; pruned: PrunedPoint[] }
  | { type: 'search-verdict'; point: string; met: boolean; objective: number | null; cycles: number }
  | { type: 'search-result'; file: string; result: SearchResult }
  | ({ type: 'summary' } & SuiteTally);

export interface SuiteReporter {
  report(event: SuiteEvent): void;
  close(): void;
}

/** `model::suite::config::cycle` with the model shortened to its last path part, for display. */
export function shortKey(key: string): string {
  const [model = '', ...rest] = key.split('::');
  return [model.split('/').filter(Boolean).at(-1) ?? model, ...rest].join('::');
}
