import { z } from 'zod';
import { idSchema, timestampSchema } from './common.ts';
import { defineEvent, type EventOf, type ServiceName } from './envelope.ts';

// Operational facts every consuming service reports about its own durable consumers, on its own stream:
// notification turns them into alerts (see alert events below and docs/alerts.md). They carry no error
// text and no payload: a handler's error may quote personal data, and these events outlive an erasure.

const consumerName = z
  .string()
  .min(1)
  .max(200)
  .describe('The durable consumer, without any namespace prefix, e.g. notification-registration-events.');

export const deadLetterReasons = ['poison', 'handler_failed'] as const;
export const deadLetterReasonSchema = z
  .enum(deadLetterReasons)
  .describe(
    'poison: the event can never be valid (not JSON, unknown type, breaks its contract); handler_failed: its handler kept failing.',
  );

const deadLetteredData = z.object({
  consumer: consumerName,
  deadLetterId: z.int().positive().describe('Row of the service’s dead_letter table; retry it there.'),
  eventId: idSchema.nullable().describe('Id of the dead-lettered event, if it had one.'),
  eventType: z.string().max(200).nullable().describe('Type of the dead-lettered event, if it had one.'),
  reason: deadLetterReasonSchema,
  deliveries: z.int().positive(),
  deadLetteredAt: timestampSchema,
});

const fellBehindData = z.object({
  consumer: consumerName,
  backlog: z.int().nonnegative().describe('Events in the stream the durable has not acknowledged.'),
  threshold: z.int().positive().describe('The backlog above which the durable counts as behind.'),
  behindSince: timestampSchema.describe('Since when every check found it above the threshold.'),
  checkedAt: timestampSchema,
});

const exampleDeadLetter = {
  consumer: 'notification-registration-events',
  deadLetterId: 17,
  eventId: '01936b2c-1a2b-7d4e-8f60-718293a4b5c6',
  eventType: 'nl.citydeals.registration.attendee.registered.v1',
  reason: 'poison',
  deliveries: 1,
  deadLetteredAt: '2026-11-23T10:15:00Z',
} as const;

const exampleFellBehind = {
  consumer: 'notification-registration-events',
  backlog: 5400,
  threshold: 1000,
  behindSince: '2026-11-23T10:00:00Z',
  checkedAt: '2026-11-23T10:12:00Z',
} as const;

function consumerFactsOf<const S extends ServiceName>(service: S) {
  return {
    deadLettered: defineEvent({
      subject: `${service}.consumer.dead_lettered`,
      version: 1,
      description: `A consumer of ${service} gave up on an event and kept it as a dead letter.`,
      data: deadLetteredData,
      example: exampleDeadLetter,
    }),
    fellBehind: defineEvent({
      subject: `${service}.consumer.fell_behind`,
      version: 1,
      description:
        `A consumer of ${service} has been more than its threshold of events behind for a while; reported ` +
        'at every check until it catches up.',
      data: fellBehindData,
      example: exampleFellBehind,
    }),
  };
}

export const registrationConsumerFacts = consumerFactsOf('registration');
export const dealTrackingConsumerFacts = consumerFactsOf('deal_tracking');
export const notificationConsumerFacts = consumerFactsOf('notification');

/** The facts each service reports about its consumers, by publishing service. */
export const consumerFacts = Object.freeze({
  registration: registrationConsumerFacts,
  deal_tracking: dealTrackingConsumerFacts,
  notification: notificationConsumerFacts,
} satisfies Record<ServiceName, unknown>);

type ConsumerFacts = (typeof consumerFacts)[ServiceName];
export type ConsumerDeadLetteredEvent = EventOf<ConsumerFacts['deadLettered']>;
export type ConsumerFellBehindEvent = EventOf<ConsumerFacts['fellBehind']>;

// Alerts: what the office is told, as Svix sends operational webhooks: one event type per kind of trouble,
// delivered to webhook endpoints that subscribe to it by name, and mailed to the office. At most one per
// cause per window (an hour by default); `occurrences` says how often the cause occurred since the last.
// The event's `subject` is the cause; its `id` names the alert.

const alertShape = {
  cause: z
    .string()
    .min(1)
    .max(300)
    .describe('What the alert is about; at most one alert per cause per window (an hour by default).'),
  occurrences: z
    .int()
    .positive()
    .describe('How often the cause occurred since the previous alert about it, this time included.'),
  raisedAt: timestampSchema,
};

const exampleAlert = { occurrences: 1, raisedAt: '2026-11-23T10:15:02Z' };

export const alertEndpointDisabled = defineEvent({
  subject: 'notification.alert.endpoint_disabled',
  version: 1,
  description:
    'A webhook endpoint was disabled by the service: it answered 410 Gone, or had no success for the ' +
    'configured time (5 days by default). Like Svix’s endpoint.disabled.',
  data: z.object({
    ...alertShape,
    endpointId: idSchema,
    reason: z.enum(['gone', 'failing']),
    failingSince: timestampSchema.nullable(),
    disabledAt: timestampSchema,
    statusCode: z
      .int()
      .min(100)
      .max(599)
      .nullable()
      .describe('Last HTTP status; null on timeout or network error.'),
  }),
  example: {
    ...exampleAlert,
    cause: 'endpoint_disabled:01936c00-1122-7334-8556-677889900aab',
    endpointId: '01936c00-1122-7334-8556-677889900aab',
    reason: 'failing',
    failingSince: '2026-11-18T10:15:00Z',
    disabledAt: '2026-11-23T10:15:00Z',
    statusCode: 503,
  },
});

export const alertRetriesExhausted = defineEvent({
  subject: 'notification.alert.retries_exhausted',
  version: 1,
  description:
    'A webhook message was given up after its last retry. Like Svix’s message.attempt.exhausted, but one ' +
    'per endpoint per window.',
  data: z.object({
    ...alertShape,
    endpointId: idSchema,
    deliveryId: idSchema.describe('The message given up last.'),
    eventType: z.string().max(200),
    attempts: z.int().positive(),
    statusCode: z.int().min(100).max(599).nullable(),
  }),
  example: {
    ...exampleAlert,
    cause: 'retries_exhausted:01936c00-1122-7334-8556-677889900aab',
    endpointId: '01936c00-1122-7334-8556-677889900aab',
    deliveryId: '01936c10-6071-7283-9495-a6b7c8d9e0f1',
    eventType: 'nl.citydeals.deal_tracking.deal.phase_changed.v1',
    attempts: 8,
    statusCode: 503,
  },
});

const mailWindow = z.int().positive().describe('The window the figures count, in seconds.');

export const alertMailsFailed = defineEvent({
  subject: 'notification.alert.mails_failed',
  version: 1,
  description:
    'Of the mails queued in the window, more than the configured share failed for good (the same figures ' +
    'and thresholds as the CityDealsMailsFailing Prometheus rule).',
  data: z.object({
    ...alertShape,
    failed: z.int().nonnegative(),
    total: z.int().positive(),
    windowSeconds: mailWindow,
    maxFailedRatio: z.number().min(0).max(1),
  }),
  example: {
    ...exampleAlert,
    cause: 'mails_failed',
    failed: 12,
    total: 40,
    windowSeconds: 900,
    maxFailedRatio: 0.1,
  },
});

export const alertMailsSuppressed = defineEvent({
  subject: 'notification.alert.mails_suppressed',
  version: 1,
  description:
    'More addresses than the configured number were suppressed after a hard bounce in the window (the ' +
    'same figures and threshold as the CityDealsMailsSuppressed Prometheus rule).',
  data: z.object({
    ...alertShape,
    suppressed: z.int().nonnegative(),
    windowSeconds: mailWindow,
    maxSuppressed: z.int().nonnegative(),
  }),
  example: {
    ...exampleAlert,
    cause: 'mails_suppressed',
    suppressed: 14,
    windowSeconds: 900,
    maxSuppressed: 10,
  },
});

const serviceSchema = z.enum(['registration', 'deal_tracking', 'notification']);

export const alertDeadLettered = defineEvent({
  subject: 'notification.alert.dead_lettered',
  version: 1,
  description: 'A consumer of some service dead-lettered an event; one alert per consumer per window.',
  data: z.object({
    ...alertShape,
    service: serviceSchema,
    consumer: consumerName,
    deadLetterId: z.int().positive().describe('The latest dead letter, in that service’s dead_letter table.'),
    eventType: z.string().max(200).nullable(),
    reason: deadLetterReasonSchema,
  }),
  example: {
    ...exampleAlert,
    cause: 'dead_lettered:notification:notification-registration-events',
    service: 'notification',
    consumer: 'notification-registration-events',
    deadLetterId: 17,
    eventType: 'nl.citydeals.registration.attendee.registered.v1',
    reason: 'poison',
  },
});

export const alertConsumerFellBehind = defineEvent({
  subject: 'notification.alert.consumer_fell_behind',
  version: 1,
  description: 'A consumer of some service has been behind for a while; one alert per consumer per window.',
  data: z.object({
    ...alertShape,
    service: serviceSchema,
    consumer: consumerName,
    backlog: z.int().nonnegative(),
    threshold: z.int().positive(),
    behindSince: timestampSchema,
  }),
  example: {
    ...exampleAlert,
    cause: 'consumer_fell_behind:notification:notification-registration-events',
    service: 'notification',
    consumer: 'notification-registration-events',
    backlog: 5400,
    threshold: 1000,
    behindSince: '2026-11-23T10:00:00Z',
  },
});

/** Every alert, by kind; webhook endpoints subscribe to them by subject. */
export const alertEvents = Object.freeze({
  endpointDisabled: alertEndpointDisabled,
  retriesExhausted: alertRetriesExhausted,
  mailsFailed: alertMailsFailed,
  mailsSuppressed: alertMailsSuppressed,
  deadLettered: alertDeadLettered,
  consumerFellBehind: alertConsumerFellBehind,
});

export type AlertDefinition = (typeof alertEvents)[keyof typeof alertEvents];

/**
 * Events about how the system runs rather than about an entity of the domain: their subject is a consumer
 * or an alert's cause, and they carry no entity version (nothing keeps a read model of them).
 */
export const operationalEventTypes: ReadonlySet<string> = new Set(
  [
    ...Object.values(consumerFacts).flatMap((facts) => Object.values(facts)),
    ...Object.values(alertEvents),
  ].map((d) => d.type),
);
