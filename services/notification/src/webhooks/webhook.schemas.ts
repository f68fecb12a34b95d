import { alertEvents, dealTrackingEvents, publicMeetingEvents } from '@citydeals/contracts';
import { z } from 'zod';
import type { AttemptRow, MessageRow } from './delivery.repository.ts';
import type { EndpointRow } from './endpoint.repository.ts';

/**
 * Event types an endpoint can subscribe to, named by subject (any version): deal events, registration's
 * public meeting events (docs/meeting-feed.md) and operational alerts (docs/alerts.md). `*` is every deal and
 * public meeting event; alerts only reach endpoints that name them.
 */
const deliverableEventTypes = [
  ...Object.values(dealTrackingEvents).map((d) => d.subject),
  ...Object.values(publicMeetingEvents).map((d) => d.subject),
  ...Object.values(alertEvents).map((d) => d.subject),
];
export const eventTypeSchema = z
  .enum(['*', ...deliverableEventTypes] as [string, ...string[]])
  .describe(
    'An event subject such as deal_tracking.deal.phase_changed, registration.public_meeting.seats_changed or ' +
      'notification.alert.endpoint_disabled, or * for every deal and public meeting event (alerts are only ' +
      'sent to endpoints that name them).',
  );

const exampleEndpointId = '01936c00-1122-7334-8556-677889900aab';
const exampleDealId = '01936a10-3c4d-7e5f-a061-7b8c9d0e1f20';
const exampleMessageId = '01936c10-6071-7283-9495-a6b7c8d9e0f1';

export const endpointIdParams = z.object({
  id: z.uuid().describe('Endpoint id').meta({ example: exampleEndpointId }),
});
export const messageIdParams = z.object({
  messageId: z.uuid().describe('Message id').meta({ example: exampleMessageId }),
});

const urlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .max(2048)
  .describe('Where messages are POSTed; must not point at private, loopback or metadata addresses.')
  .meta({ example: 'https://dashboard.example.org/hooks/citydeals' });
const descriptionSchema = z.string().max(500).meta({ example: 'Ministry dashboard' });
const eventTypesSchema = z
  .array(eventTypeSchema)
  .min(1)
  .max(50)
  .meta({ example: ['deal_tracking.deal.phase_changed', 'deal_tracking.deal.updated'] });
const dealIdsSchema = z
  .array(z.uuid())
  .min(1)
  .max(1000)
  .nullable()
  .describe('Only events about these deals; null or absent for every deal.')
  .meta({ example: [exampleDealId] });

export const createEndpointBody = z.object({
  url: urlSchema,
  description: descriptionSchema.optional(),
  eventTypes: eventTypesSchema,
  dealIds: dealIdsSchema.optional(),
});

export const updateEndpointBody = z
  .object({
    url: urlSchema.optional(),
    description: descriptionSchema.optional(),
    eventTypes: eventTypesSchema.optional(),
    dealIds: dealIdsSchema.optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), 'name at least one field to change');

export const rotateSecretBody = z
  .object({
    graceSeconds: z
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional()
      .describe('How long the old secret keeps signing too; the configured default (24 h) when absent.')
      .meta({ example: 86_400 }),
  })
  .default({});

export const listEndpointsQuery = z.object({
  enabled: z.stringbool().optional().describe('Only enabled (true) or disabled (false) endpoints'),
  after: z.uuid().optional().describe('Cursor: the last id of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const listMessagesQuery = z.object({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('Only messages created at or after this time'),
  after: z.uuid().optional().describe('Cursor: the last id of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const replayBody = z.object({
  since: z.iso
    .datetime({ offset: true })
    .describe('Every message of the endpoint created at or after this time is sent again')
    .meta({ example: '2026-11-20T00:00:00Z' }),
  onlyFailed: z.boolean().default(false).describe('Only messages that were given up'),
});

const timestamp = z.string().meta({ example: '2026-11-28T10:00:00.000Z' });

export const endpointSchema = z.object({
  id: z.uuid().meta({ example: exampleEndpointId }),
  url: z.string().meta({ example: 'https://dashboard.example.org/hooks/citydeals' }),
  description: z.string(),
  eventTypes: z.array(z.string()),
  dealIds: z.array(z.string()).nullable(),
  status: z.enum(['enabled', 'disabled']),
  disabledReason: z
    .enum(['manual', 'gone', 'failing'])
    .nullable()
    .describe('manual (admin), gone (answered 410), failing (no success for WEBHOOK_DISABLE_AFTER)'),
  disabledAt: timestamp.nullable(),
  failingSince: timestamp.nullable().describe('First failure since the last success'),
  previousSecretExpiresAt: timestamp
    .nullable()
    .describe('While in the future, messages are signed with the previous secret as well'),
  version: z.int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const endpointWithSecretSchema = endpointSchema.extend({
  secret: z
    .string()
    .describe('The signing secret (whsec_ + base64). Shown only in this answer: store it now.')
    .meta({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3nBS8c4hJqU=' }),
});

export const messageSchema = z.object({
  id: z.uuid().meta({ example: exampleMessageId }),
  endpointId: z.uuid(),
  webhookId: z.string().meta({ example: 'msg_01936c10607172839495a6b7c8d9e0f1' }),
  eventId: z.uuid(),
  eventType: z.string().meta({ example: 'nl.citydeals.deal_tracking.deal.phase_changed.v1' }),
  dealId: z.uuid().nullable(),
  dealVersion: z.int().nullable(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  nextAttemptAt: timestamp.nullable().describe('When the next attempt is due; null unless pending'),
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  failureReason: z.string().nullable(),
  deliveredAt: timestamp.nullable(),
  failedAt: timestamp.nullable(),
  createdAt: timestamp,
});

export const attemptSchema = z.object({
  attempt: z.int().describe('1 for the first attempt'),
  startedAt: timestamp,
  webhookTimestamp: z.int().describe('The webhook-timestamp header sent'),
  durationMs: z.int(),
  statusCode: z.int().nullable().describe('null on timeout, network error or refused target'),
  error: z.string().nullable(),
  responseBody: z.string().nullable().describe('The first 1 KB of the answer'),
  outcome: z.enum(['delivered', 'failed']),
});

export const messageWithAttemptsSchema = messageSchema.extend({
  payload: z.string().describe('The exact body sent'),
  attemptLog: z.array(attemptSchema),
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function endpointView(row: EndpointRow): z.output<typeof endpointSchema> {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    dealIds: row.deal_ids,
    status: row.enabled ? 'enabled' : 'disabled',
    disabledReason: row.disabled_reason,
    disabledAt: iso(row.disabled_at),
    failingSince: iso(row.failing_since),
    previousSecretExpiresAt: iso(row.previous_secret_expires_at),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function messageView(row: MessageRow): z.output<typeof messageSchema> {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    dealId: row.deal_id,
    dealVersion: row.deal_version,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    failureReason: row.failure_reason,
    deliveredAt: iso(row.delivered_at),
    failedAt: iso(row.failed_at),
    createdAt: row.created_at.toISOString(),
  };
}

export function attemptView(row: AttemptRow): z.output<typeof attemptSchema> {
  return {
    attempt: row.attempt,
    startedAt: row.started_at.toISOString(),
    webhookTimestamp: row.webhook_timestamp,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    error: row.error,
    responseBody: row.response_body,
    outcome: row.outcome,
  };
}
