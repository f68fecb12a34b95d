import { z } from 'zod';
import { idSchema, isoDurationSchema, timestampSchema, versionSchema } from './common.ts';
import { defineEvent, type EventOf, TYPE_PREFIX } from './envelope.ts';

// Delivery facts for operators. They name people only by registration id, never by address: these events
// live on in the stream after an attendee is erased.

export const emailKinds = [
  'registration_confirmed',
  'waitlisted',
  'promoted',
  'registration_cancelled',
  'reminder',
  'meeting_rescheduled',
  'meeting_cancelled',
  'meeting_changed',
  'manage_link',
  'address_confirmation',
  'feedback_survey',
  'attendee_message',
  'waitlist_offer',
  'session_place',
] as const;
export const emailKindSchema = z.enum(emailKinds);
export type EmailKind = z.infer<typeof emailKindSchema>;

/** Every mail the service sends: the attendees' kinds, and the office's operational alerts. */
export const mailKinds = [...emailKinds, 'operational_alert'] as const;
export const mailKindSchema = z.enum(mailKinds);
export type MailKind = z.infer<typeof mailKindSchema>;

export const emailFailureReasons = ['rejected', 'retries_exhausted'] as const;
export const emailFailureReasonSchema = z.enum(emailFailureReasons);
export type EmailFailureReason = z.infer<typeof emailFailureReasonSchema>;

export const webhookFailureReasons = ['retries_exhausted', 'endpoint_gone', 'endpoint_disabled'] as const;
export const webhookFailureReasonSchema = z.enum(webhookFailureReasons);
export type WebhookFailureReason = z.infer<typeof webhookFailureReasonSchema>;

const emailShape = {
  emailId: idSchema,
  version: versionSchema.describe('Version of the mail record; grows with every attempt and outcome.'),
  kind: mailKindSchema,
  meetingId: idSchema.nullable(),
  registrationId: idSchema.nullable(),
  reminderOffset: isoDurationSchema.nullable().describe('The offset of a reminder; null for other kinds.'),
  messageId: z
    .string()
    .min(3)
    .max(998)
    .regex(/^<[^<>\s]+@[^<>\s]+>$/, 'an RFC 5322 Message-ID like <id@host>')
    .describe('Message-ID header; stable across retries of the same mail.'),
  attempts: z.int().positive(),
};

const exampleEmail = {
  emailId: '01936c01-5f60-7172-8384-95a6b7c8d9e0',
  version: 2,
  kind: 'reminder',
  meetingId: '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  registrationId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
  reminderOffset: 'P1D',
  messageId: '<01936c01-5f60-7172-8384-95a6b7c8d9e0@cop.citydeals.example.org>',
  attempts: 1,
} as const;

export const emailSent = defineEvent({
  subject: 'notification.email.sent',
  version: 1,
  description: 'A mail was accepted by the SMTP server (or written to the local mail folder).',
  data: z.object({ ...emailShape, sentAt: timestampSchema }),
  example: { ...exampleEmail, sentAt: '2023-11-22T13:00:04+01:00' },
});

export const emailFailed = defineEvent({
  subject: 'notification.email.failed',
  version: 1,
  description:
    'A mail was given up: rejected permanently (SMTP 5xx) or still failing after the last retry. A rejected ' +
    'address is suppressed for further reminders.',
  data: z.object({
    ...emailShape,
    reason: emailFailureReasonSchema,
    smtpCode: z
      .int()
      .min(100)
      .max(599)
      .nullable()
      .describe('Last SMTP reply code; null if none was received.'),
    error: z
      .string()
      .min(1)
      .max(1000)
      .describe('Last SMTP reply or error text, with the recipient address removed.'),
    suppressed: z.boolean().describe('Whether the address is now suppressed for reminders.'),
    failedAt: timestampSchema,
  }),
  example: {
    ...exampleEmail,
    version: 3,
    kind: 'registration_confirmed',
    reminderOffset: null,
    attempts: 1,
    reason: 'rejected',
    smtpCode: 550,
    error: '550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table',
    suppressed: true,
    failedAt: '2023-11-02T09:06:12+01:00',
  },
});

const webhookShape = {
  deliveryId: idSchema,
  version: versionSchema.describe('Version of the delivery record; grows with every attempt and outcome.'),
  endpointId: idSchema,
  webhookId: z.string().min(1).max(200).describe('The webhook-id header; the same for every attempt.'),
  eventId: idSchema.describe('Id of the delivered event.'),
  eventType: z
    .string()
    .max(200)
    // A regex rather than startsWith: JSON Schema has no standard format for a prefix.
    .regex(new RegExp(`^${TYPE_PREFIX.replaceAll('.', '\\.')}[a-z_]+\\.[a-z_]+\\.[a-z_]+\\.v[1-9][0-9]*$`)),
  dealId: idSchema.nullable(),
  dealVersion: versionSchema.nullable().describe('Version of the deal in the delivered event, if any.'),
  attempts: z.int().positive(),
};

const exampleWebhook = {
  deliveryId: '01936c10-6071-7283-9495-a6b7c8d9e0f1',
  version: 2,
  endpointId: '01936c00-1122-7334-8556-677889900aab',
  webhookId: 'msg_01936c10607172839495a6b7c8d9e0f1',
  eventId: '01936a99-0000-7abc-8def-0123456789ab',
  eventType: 'nl.citydeals.deal_tracking.deal.phase_changed.v1',
  dealId: '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20',
  dealVersion: 4,
  attempts: 1,
} as const;

export const webhookDelivered = defineEvent({
  subject: 'notification.webhook.delivered',
  version: 1,
  description:
    'A webhook message was answered with a 2xx status by its endpoint. No longer written: see ' +
    '`notification.webhook_deliveries.recorded`; kept for the events streams and outboxes still hold.',
  data: z.object({
    ...webhookShape,
    statusCode: z.int().min(200).max(299),
    durationMs: z.int().nonnegative(),
    deliveredAt: timestampSchema,
  }),
  example: { ...exampleWebhook, statusCode: 204, durationMs: 87, deliveredAt: '2023-09-01T11:00:01+02:00' },
});

/** One delivery of `webhookDeliveriesRecorded`: the facts `webhookDelivered` announced for a single message. */
const deliveredShape = z.object({
  ...webhookShape,
  statusCode: z.int().min(200).max(299),
  durationMs: z.int().nonnegative(),
  deliveredAt: timestampSchema,
});

/** Deliveries one `webhookDeliveriesRecorded` lists at most: a settlement records no more at once. */
export const WEBHOOK_DELIVERIES_PER_EVENT = 256;

/**
 * Replaces `webhookDelivered` (one event per message, no longer written): the messages the delivery worker
 * recorded as delivered together, in one event. Under a burst an event per message cost as much as the
 * webhook it announced. Each listed delivery carries exactly the facts `webhookDelivered` carried. The
 * entity is the settlement, recorded once. Any non-empty part of a valid list is itself valid, which the
 * outbox relies on (`statementListEvent` in `packages/messaging`): no rule spans two deliveries.
 */
export const webhookDeliveriesRecorded = defineEvent({
  subject: 'notification.webhook_deliveries.recorded',
  version: 1,
  description:
    'Webhook messages answered with a 2xx status by their endpoints, recorded together by one settlement, ' +
    'in the order they were recorded. Replaces `notification.webhook.delivered`.',
  data: z.object({
    settlementId: idSchema.describe('Id of this settlement; the CloudEvents subject.'),
    version: versionSchema.describe('Always 1: a settlement is recorded once and never changes.'),
    deliveries: z.array(deliveredShape).min(1).max(WEBHOOK_DELIVERIES_PER_EVENT),
    recordedAt: timestampSchema,
  }),
  example: {
    settlementId: '01936c10-6071-7283-9495-a6b7c8d9e0f2',
    version: 1,
    deliveries: [
      { ...exampleWebhook, statusCode: 204, durationMs: 87, deliveredAt: '2023-09-01T11:00:01+02:00' },
    ],
    recordedAt: '2023-09-01T11:00:01+02:00',
  },
});

export const webhookFailed = defineEvent({
  subject: 'notification.webhook.failed',
  version: 1,
  description:
    'A webhook message was given up: retries exhausted, the endpoint answered 410 Gone, or the endpoint was ' +
    'disabled. `endpointDisabled` tells whether the endpoint is now disabled (e.g. after failing for 5 days).',
  data: z.object({
    ...webhookShape,
    reason: webhookFailureReasonSchema,
    statusCode: z
      .int()
      .min(100)
      .max(599)
      .nullable()
      .describe('Last HTTP status; null on timeout or network error.'),
    error: z.string().min(1).max(1000),
    endpointDisabled: z.boolean(),
    failedAt: timestampSchema,
  }),
  example: {
    ...exampleWebhook,
    version: 9,
    attempts: 8,
    reason: 'retries_exhausted',
    statusCode: 503,
    error: 'HTTP 503 Service Unavailable',
    endpointDisabled: true,
    failedAt: '2023-09-06T11:00:00+02:00',
  },
});

/**
 * The type of a webhook test message (`POST /webhooks/endpoints/{id}/test`): not an event of any stream, only
 * a body sent to one endpoint, so a receiver can check its signature handling and answer 2xx without acting.
 */
export const WEBHOOK_TEST_MESSAGE_TYPE = `${TYPE_PREFIX}notification.webhook.test.v1`;

export const notificationEvents = Object.freeze({
  emailSent,
  emailFailed,
  webhookDelivered,
  webhookDeliveriesRecorded,
  webhookFailed,
});

export type EmailSentEvent = EventOf<typeof emailSent>;
export type EmailFailedEvent = EventOf<typeof emailFailed>;
export type WebhookDeliveredEvent = EventOf<typeof webhookDelivered>;
export type WebhookDeliveriesRecordedEvent = EventOf<typeof webhookDeliveriesRecorded>;
export type WebhookFailedEvent = EventOf<typeof webhookFailed>;
