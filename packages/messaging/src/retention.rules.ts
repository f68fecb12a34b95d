/**
 * How long each messaging store keeps what it no longer needs, and the limits that keep those periods
 * honest. Pure: the periods come from the configuration, `now` from the caller's clock. The pruning job
 * (retention.ts) only carries out the cut-offs decided here; services add their own stores with the same
 * shape (notification: services/notification/src/retention/retention.rules.ts).
 */

/** JetStream drops a re-published event with an id it saw within this window. */
export const DUPLICATE_WINDOW_MS = 5 * 60_000;
/** Slack above each bound a period must respect: clocks differ, a round runs late. */
export const RETENTION_MARGIN_MS = 5 * 60_000;

const HOUR = 3600_000;
const DAY = 24 * HOUR;

export interface MessagingRetention {
  /** Published outbox rows: only for operators once JetStream has them. */
  outboxPublishedMs: number;
  /** Inbox rows: the record that an event was applied, so a redelivery or replay is not applied twice. */
  inboxMs: number;
  /** Dead letters that an operator resolved (retried or discarded); open ones are kept until resolved. */
  deadLetterResolvedMs: number;
  /** Age at which the stream forgets a message (`max_age`): nothing older can be redelivered or replayed. */
  streamMaxAgeMs: number;
}

export const messagingRetentionDefaults: Readonly<MessagingRetention> = Object.freeze({
  outboxPublishedMs: HOUR,
  inboxMs: 7 * DAY + DAY,
  deadLetterResolvedMs: 30 * DAY,
  streamMaxAgeMs: 7 * DAY,
});

export interface MessagingCutoffs {
  /** Published before this: deleted. */
  outboxPublished: Date;
  /** Processed before this: deleted. */
  inbox: Date;
  /** Resolved before this: deleted. */
  deadLetterResolved: Date;
}

export const before = (now: Date, periodMs: number): Date => new Date(now.getTime() - periodMs);

export function messagingCutoffs(policy: MessagingRetention, now: Date): MessagingCutoffs {
  return {
    outboxPublished: before(now, policy.outboxPublishedMs),
    inbox: before(now, policy.inboxMs),
    deadLetterResolved: before(now, policy.deadLetterResolvedMs),
  };
}

/**
 * The guarantees a configuration would break, each naming its variable; empty when it keeps them all.
 * - The inbox outlives every message the stream can still deliver: pruned earlier, a redelivery or a
 *   replay of an old event would find no record and apply it a second time.
 * - Published outbox rows outlive JetStream's duplicate window: as long as the broker may still drop a copy
 *   of an event as a duplicate, the outbox can still show that and when the event went out.
 */
export function messagingRetentionProblems(policy: MessagingRetention): string[] {
  const problems: string[] = [];
  if (policy.inboxMs < policy.streamMaxAgeMs + RETENTION_MARGIN_MS) {
    problems.push(
      'RETENTION_INBOX_MS: must be at least NATS_STREAM_MAX_AGE_MS plus 5 minutes, or a redelivered or replayed event is applied twice',
    );
  }
  if (policy.streamMaxAgeMs < DUPLICATE_WINDOW_MS) {
    problems.push(
      'NATS_STREAM_MAX_AGE_MS: must be at least the JetStream duplicate window (5 minutes), or the stream cannot drop a re-published event',
    );
  }
  if (policy.outboxPublishedMs < DUPLICATE_WINDOW_MS + RETENTION_MARGIN_MS) {
    problems.push(
      'RETENTION_OUTBOX_PUBLISHED_MS: must be at least the JetStream duplicate window (5 minutes) plus 5 minutes',
    );
  }
  return problems;
}
