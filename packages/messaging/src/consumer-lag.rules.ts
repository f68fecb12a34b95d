/**
 * When a durable consumer counts as behind. Pure: the backlog and the time are passed in. Like a Prometheus
 * rule with `for:`, a burst that is worked off within `afterMs` is not reported; a backlog that stays above
 * the threshold is reported at every check from then on (notification turns that into one alert an hour).
 */

export interface LagPolicy {
  /** Unacknowledged events above which the durable counts as behind. */
  readonly threshold: number;
  /** How long it must stay above the threshold before it is reported. */
  readonly afterMs: number;
}

/** Per durable: since when every check found it above the threshold; null while it keeps up. */
export type LagState = Date | null;

export type LagDecision = { report: false; behindSince: LagState } | { report: true; behindSince: Date };

export function decideLag(behindSince: LagState, backlog: number, now: Date, policy: LagPolicy): LagDecision {
  if (backlog <= policy.threshold) return { report: false, behindSince: null };
  const since = behindSince ?? now;
  if (now.getTime() - since.getTime() >= policy.afterMs) return { report: true, behindSince: since };
  return { report: false, behindSince: since };
}
