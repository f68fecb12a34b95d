/**
 * When the office is told. Pure: the time and the figures are passed in. Each alert has a cause (what it is
 * about: an endpoint, a consumer, the mail stream); a cause raises at most one alert per window, and what
 * happens in between is counted and told with the next one.
 */

/** What is remembered of a cause: when it last raised an alert, and how often it occurred since. */
export interface CauseState {
  lastRaisedAt: Date | null;
  heldBack: number;
}

export type AlertDecision = { action: 'raise'; occurrences: number } | { action: 'hold' };

export function decideAlert(cause: CauseState, now: Date, windowMs: number): AlertDecision {
  const { lastRaisedAt } = cause;
  // A clock that went back counts as inside the window: an alert too few rather than one too many.
  if (lastRaisedAt === null || now.getTime() - lastRaisedAt.getTime() >= windowMs) {
    return { action: 'raise', occurrences: cause.heldBack + 1 };
  }
  return { action: 'hold' };
}

/** The causes, one key each; the key is the deduplication key and the alert's CloudEvents subject. */
export const causeOf = {
  endpointDisabled: (endpointId: string) => `endpoint_disabled:${endpointId}`,
  retriesExhausted: (endpointId: string) => `retries_exhausted:${endpointId}`,
  mailsFailed: () => 'mails_failed',
  mailsSuppressed: () => 'mails_suppressed',
  deadLettered: (service: string, consumer: string) => `dead_lettered:${service}:${consumer}`,
  consumerFellBehind: (service: string, consumer: string) => `consumer_fell_behind:${service}:${consumer}`,
} as const;

export interface MailFigures {
  /** Mails created in the window, by their status now. */
  total: number;
  failed: number;
  /** Addresses suppressed after a hard bounce in the window. */
  suppressed: number;
}

export interface MailThresholds {
  maxFailedRatio: number;
  minVolume: number;
  maxSuppressed: number;
}

/** The CityDealsMailsFailing rule: failed / total above the ratio, with enough mails to judge by. */
export function mailsFailing(figures: MailFigures, thresholds: MailThresholds): boolean {
  return figures.total >= thresholds.minVolume && figures.failed / figures.total > thresholds.maxFailedRatio;
}

/** The CityDealsMailsSuppressed rule: more suppressions than the threshold. */
export function mailsSuppressing(figures: MailFigures, thresholds: MailThresholds): boolean {
  return figures.suppressed > thresholds.maxSuppressed;
}
