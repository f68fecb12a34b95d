/**
 * How long the notification service keeps mail bodies and webhook deliveries. Pure: periods from the
 * configuration, `now` from the caller. The messaging tables' rules are in @citydeals/messaging
 * (retention.rules.ts); the pruning itself is retention.worker.ts.
 */
import { before, RETENTION_MARGIN_MS } from '@citydeals/messaging';

export interface NotificationRetention {
  /** After this, a sent, failed or withdrawn mail keeps its log line (who, when, what, status) but not its text, HTML or calendar file. */
  mailBodyMs: number;
  /** Delivered and failed webhook messages, with their attempts, are deleted after this (Svix keeps 90 days). */
  webhookMs: number;
  /** The streams' max age (NATS_STREAM_MAX_AGE_MS). */
  streamMaxAgeMs: number;
}

export interface NotificationCutoffs {
  /** Mails created before this lose their bodies. */
  mailBody: Date;
  /** Webhook messages created before this are deleted. */
  webhook: Date;
}

export function notificationCutoffs(policy: NotificationRetention, now: Date): NotificationCutoffs {
  return { mailBody: before(now, policy.mailBodyMs), webhook: before(now, policy.webhookMs) };
}

/**
 * A replayed deal event arrives with a fresh event id; the message already given to an endpoint for that
 * deal version is what keeps it from being delivered twice, so messages must outlive the stream's messages.
 */
export function notificationRetentionProblems(policy: NotificationRetention): string[] {
  if (policy.webhookMs < policy.streamMaxAgeMs + RETENTION_MARGIN_MS) {
    return [
      'RETENTION_WEBHOOK_MS: must be at least NATS_STREAM_MAX_AGE_MS plus 5 minutes, or a replayed deal event is delivered again',
    ];
  }
  return [];
}
