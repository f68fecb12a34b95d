// When `npm start` brings a process back after it died, and when it stops trying. Pure: the caller passes
// the times of the earlier crashes and the clock, so the schedule is tested without processes.

export interface RestartPolicy {
  /** The wait before the first restart; each further crash inside the window doubles it. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** More crashes than this inside the window: something is wrong that a restart will not cure. */
  readonly maxRestarts: number;
  /** Crashes older than this are forgiven: a process that ran fine for a while starts again from the first delay. */
  readonly windowMs: number;
}

export const defaultRestartPolicy: RestartPolicy = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 15_000,
  maxRestarts: 5,
  windowMs: 5 * 60_000,
});

export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number; readonly attempt: number; readonly of: number }
  | { readonly kind: 'give-up'; readonly crashes: number; readonly windowMs: number };

/**
 * `earlierCrashes`: when the process died before (ms, the same clock as `now`), not counting this crash.
 * A crash loop (a bad config, a port taken for good) ends in `give-up` instead of restarting forever.
 */
export function decideRestart(
  earlierCrashes: readonly number[],
  now: number,
  policy: RestartPolicy = defaultRestartPolicy,
): RestartDecision {
  const recent = earlierCrashes.filter((at) => now - at < policy.windowMs).length + 1;
  if (recent > policy.maxRestarts) {
    return { kind: 'give-up', crashes: recent, windowMs: policy.windowMs };
  }
  const delayMs = Math.min(policy.initialDelayMs * 2 ** (recent - 1), policy.maxDelayMs);
  return { kind: 'restart', delayMs, attempt: recent, of: policy.maxRestarts };
}
