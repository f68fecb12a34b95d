/**
 * When to try a webhook message again, and when to give up. Pure: the clock and the random source are
 * passed in, so the schedule is testable to the millisecond.
 */

export interface RetryPolicy {
  /** Delays before the 2nd, 3rd, … attempt, each counted from the failure before it; the 1st is immediate. */
  readonly delaysMs: readonly number[];
  /** ±fraction of each delay drawn at random, so a receiver that fails for everyone is not hit in waves. */
  readonly jitter: number;
}

/** The Standard Webhooks example schedule, shortened to about 28 hours in 8 attempts. */
export const defaultRetryDelaysMs: readonly number[] = Object.freeze([
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  10 * 3600_000,
]);

/** A receiver cannot park a message for longer than this with `Retry-After`. */
export const maxRetryAfterMs = 24 * 3600_000;

export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfter: string | null }
  | { kind: 'error'; error: string };

export type AttemptDecision =
  | { action: 'delivered' }
  | { action: 'retry'; delayMs: number }
  | { action: 'give-up'; reason: 'retries_exhausted' }
  | { action: 'disable-endpoint'; reason: 'endpoint_gone' };

/** Only 2xx is success; 3xx counts as a failure because redirects are never followed. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

/**
 * What follows the `attemptInRound`-th attempt (1-based, counted since the message was last queued by the
 * consumer, a manual retry or a replay).
 */
export function decideAfterAttempt(
  attemptInRound: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: Date,
  random: () => number,
): AttemptDecision {
  if (outcome.kind === 'response' && isSuccessStatus(outcome.status)) return { action: 'delivered' };
  if (outcome.kind === 'response' && outcome.status === 410) {
    return { action: 'disable-endpoint', reason: 'endpoint_gone' };
  }
  const scheduled = policy.delaysMs[attemptInRound - 1];
  if (scheduled === undefined) return { action: 'give-up', reason: 'retries_exhausted' };
  let delayMs = withJitter(scheduled, policy.jitter, random);
  if (outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503)) {
    const asked = parseRetryAfter(outcome.retryAfter, now);
    if (asked !== undefined) delayMs = Math.max(delayMs, Math.min(asked, maxRetryAfterMs));
  }
  return { action: 'retry', delayMs };
}

export function withJitter(delayMs: number, jitter: number, random: () => number): number {
  if (delayMs <= 0 || jitter <= 0) return delayMs;
  return Math.max(0, Math.round(delayMs * (1 + jitter * (2 * random() - 1))));
}

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms from `now`; undefined if unusable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** An endpoint that has not had one success since `failingSince` for this long is disabled. */
export function hasFailedTooLong(failingSince: Date | null, now: Date, disableAfterMs: number): boolean {
  return failingSince !== null && now.getTime() - failingSince.getTime() >= disableAfterMs;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** Parses `250ms`, `5s`, `30m`, `2h`, `5d` (a bare number is milliseconds). */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration like 500ms, 5s, 5m, 2h or 5d`);
  return Math.round(Number.parseFloat(match[1]!) * units[match[2] ?? 'ms']!);
}
