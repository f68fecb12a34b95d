export interface RetrySchedule {
  /** Delay before the second delivery; doubles with each further one. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Deliveries after which a still-failing event is dead-lettered instead of retried. */
  readonly maxDeliveries: number;
}

export const defaultRetrySchedule: RetrySchedule = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxDeliveries: 12,
});

export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'dead-letter' };

/** What to do after the `deliveryCount`-th delivery of an event failed with a transient error. */
export function decideAfterFailure(deliveryCount: number, schedule: RetrySchedule): FailureDecision {
  if (deliveryCount >= schedule.maxDeliveries) return { action: 'dead-letter' };
  const exponent = Math.max(0, deliveryCount - 1);
  const delayMs = Math.min(schedule.maxDelayMs, schedule.initialDelayMs * 2 ** exponent);
  return { action: 'retry', delayMs };
}
