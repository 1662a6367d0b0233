import type { Experiment } from '@joules/config';
import { LaunchOptionsError } from './errors.js';
import type { LaunchOutcome, OutcomeKind } from './launcher.js';

/** How failed attempts are retried (the CLI maps the experiment's `retry` group onto this). */
export interface RetryPolicy {
  /** Attempts after the first one; 0 = run once. */
  maxRetries: number;
  /** The wait before attempt n (n ≥ 2) is backoffBaseS^(n-1) seconds: 2, 4, 8... for 2. */
  backoffBaseS: number;
  /**
   * On OOM retry with batch_size halved (down to 1, then give up). When false an OOM fails at once:
   * the batch size is part of what is measured, and the same size would run out of memory again.
   */
  halveBatchOnOom: boolean;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 3,
  backoffBaseS: 2,
  halveBatchOnOom: true,
});

/**
 * What each failure kind leads to. `final`: fail at once, another attempt cannot succeed;
 * `retry`: the same experiment again; `halve`: again with half the batch size.
 */
export const RETRY_RULES: Readonly<Record<OutcomeKind, 'final' | 'retry' | 'halve'>> = Object.freeze({
  bad_config: 'final',
  model_not_found: 'final',
  dataset: 'final',
  unsupported: 'final',
  server_error: 'retry',
  oom: 'halve',
  timeout: 'retry',
  transient: 'retry',
  other: 'retry',
  crashed: 'retry',
  // the server is restarted before another attempt (ServerLauncher)
  server_crashed: 'retry',
  server_start_failed: 'final',
  server_unreachable: 'final',
  // the GPU guard refused a gpu.* setting (permission, support, range), or did not restore it
  gpu_control: 'final',
});

export type RetryDecision = { retry: true; experiment: Experiment; reason: string } | { retry: false; reason: string };

/** Whether (and with which experiment) a failed attempt is worth another one. */
export function decideRetry(
  outcome: Extract<LaunchOutcome, { status: 'failed' }>,
  experiment: Experiment,
  policy: RetryPolicy,
): RetryDecision {
  const rule = RETRY_RULES[outcome.kind];
  if (rule === 'final') return { retry: false, reason: `${outcome.kind} is not retried` };
  if (rule === 'retry') return { retry: true, experiment, reason: `${outcome.kind} may pass on another attempt` };
  const size = experiment.batch_size;
  if (!policy.halveBatchOnOom) return { retry: false, reason: `out of memory at batch size ${size} (halving is off)` };
  if (size <= 1) return { retry: false, reason: 'out of memory at batch size 1' };
  const half = Math.floor(size / 2);
  return {
    retry: true,
    experiment: { ...experiment, batch_size: half },
    reason: `out of memory: batch size ${size} → ${half}`,
  };
}

/** p-retry's options for the policy: its delay is minTimeout·factor^(retries consumed). */
export function backoffOptions(policy: RetryPolicy): { minTimeout: number; factor: number } {
  return { minTimeout: policy.backoffBaseS * 1000, factor: policy.backoffBaseS > 0 ? policy.backoffBaseS : 1 };
}

/** The wait in ms before attempt `attempt` (≥ 2), computed exactly as p-retry does. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy): number {
  const { minTimeout, factor } = backoffOptions(policy);
  return Math.round(minTimeout * factor ** Math.max(0, attempt - 2));
}

/** The policy, checked: a clear error naming the field that is wrong. */
export function checkRetryPolicy(policy: Partial<RetryPolicy> | undefined): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  if (!Number.isInteger(p.maxRetries) || p.maxRetries < 0) {
    throw new LaunchOptionsError(`retry.maxRetries: expected an integer ≥ 0, got ${p.maxRetries}`, 'BAD_RETRY_POLICY');
  }
  if (typeof p.backoffBaseS !== 'number' || !Number.isFinite(p.backoffBaseS) || p.backoffBaseS < 0) {
    throw new LaunchOptionsError(
      `retry.backoffBaseS: expected a finite number ≥ 0, got ${p.backoffBaseS}`,
      'BAD_RETRY_POLICY',
    );
  }
  if (typeof p.halveBatchOnOom !== 'boolean') {
    throw new LaunchOptionsError(
      `retry.halveBatchOnOom: expected a boolean, got ${String(p.halveBatchOnOom)}`,
      'BAD_RETRY_POLICY',
    );
  }
  return p;
}
