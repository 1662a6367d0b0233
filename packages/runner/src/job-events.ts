import type { JobEvent } from '@joules/launcher';
import type { EventSink, RunnerEvent } from './events.js';

/** A launcher job event as a runner event (undefined: nothing the outside world needs). */
export function fromJobEvent(event: JobEvent, key: string, experimentId: string): RunnerEvent | undefined {
  switch (event.type) {
    case 'started':
      return {
        type: 'experiment-attempt',
        key,
        experimentId,
        attempt: event.attempt,
        pid: event.pid,
        gpuIds: event.gpuIds,
        batchSize: event.batchSize,
        ...(event.schedulerJobId !== undefined && { schedulerJobId: event.schedulerJobId }),
      };
    case 'worker': {
      const e = event.event;
      if (e.event === 'stage') return { type: 'experiment-stage', key, experimentId, rank: e.rank, stage: e.stage };
      if (e.event === 'power')
        return {
          type: 'experiment-power',
          key,
          experimentId,
          rank: e.rank,
          host: e.host,
          device: e.device,
          watts: e.watts,
          time: e.time,
        };
      if (e.event === 'warmup')
        return { type: 'experiment-progress', key, experimentId, rank: e.rank, phase: 'warmup', i: e.i, n: e.n };
      if (e.event === 'batch') {
        return {
          type: 'experiment-progress',
          key,
          experimentId,
          rank: e.rank,
          phase: 'batch',
          i: e.i,
          n: e.n,
          size: e.size,
          latencyS: e.latency_s,
        };
      }
      return undefined;
    }
    case 'attempt-failed':
      return {
        type: 'experiment-attempt-failed',
        key,
        experimentId,
        attempt: event.attempt,
        kind: event.kind,
        message: event.message,
        reason: event.reason,
        willRetry: event.willRetry,
      };
    case 'retrying':
      return {
        type: 'experiment-retrying',
        key,
        experimentId,
        attempt: event.attempt,
        delayMs: event.delayMs,
        batchSize: event.batchSize,
        previousBatchSize: event.previousBatchSize,
      };
    default:
      return undefined;
  }
}

/** Forward a job event to the sink when it means something outside. */
export function forwardJobEvent(emit: EventSink, event: JobEvent, key: string, experimentId: string): void {
  const e = fromJobEvent(event, key, experimentId);
  if (e) emit(e);
}
