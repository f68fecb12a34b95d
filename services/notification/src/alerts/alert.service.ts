import {
  type AlertDefinition,
  alertEvents,
  type CloudEvent,
  type ConsumerDeadLetteredEvent,
  type ConsumerFellBehindEvent,
  type EmailFailedEvent,
  type ServiceName,
  type WebhookFailedEvent,
} from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import type { Clock } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../db/database.ts';
import { mailChannel } from '../email/email.context.ts';
import { insertEmails } from '../email/email.repository.ts';
import type { AlertSettings } from './alert.config.ts';
import { composeAlertMail } from './alert.mail.ts';
import {
  findEndpointHealth,
  holdCause,
  lockCause,
  mailFigures,
  queueAlertMessages,
  recordAlert,
} from './alert.repository.ts';
import { causeOf, decideAlert, mailsFailing, mailsSuppressing } from './alert.rules.ts';

export type AlertKind = keyof typeof alertEvents;

export interface RaisedAlert {
  kind: AlertKind;
  event: CloudEvent;
  webhookMessages: number;
  emailId: string | null;
}

export interface AlertDeps {
  /** The clock of the once-per-window rule (tests move it forward an hour). */
  clock: Clock;
  /** The real time, never moved: when the alert's event, webhook messages and mail say it happened and are due. */
  wallClock: Clock;
  newId: () => string;
  settings: AlertSettings;
  messageIdDomain: string;
}

interface AlertCommon {
  cause: string;
  occurrences: number;
  raisedAt: string;
}

type AlertInput<K extends AlertKind> = z.input<(typeof alertEvents)[K]['data']>;

/**
 * Raises an alert unless its cause raised one within the window, in the caller's transaction: the event in
 * the outbox, a webhook message per subscribed endpoint, the office's mail, and the cause's new state. Held
 * back, the occurrence is counted and told with the next alert. Returns the alert, or null if held back.
 */
export async function raiseAlert<K extends AlertKind>(
  trx: Transaction<Database>,
  deps: AlertDeps,
  alert: { kind: K; cause: string; build: (common: AlertCommon) => AlertInput<K>; aboutEndpoint?: string },
): Promise<RaisedAlert | null> {
  const definition: AlertDefinition = alertEvents[alert.kind];
  const now = deps.clock.now();
  const state = await lockCause(trx, alert.cause, definition.subject);
  const decision = decideAlert(state, now, deps.settings.ALERT_WINDOW);
  const at = deps.wallClock.now();
  if (decision.action === 'hold') {
    await holdCause(trx, alert.cause);
    return null;
  }
  const event: CloudEvent = await enqueueEvent(trx, alertEvents[alert.kind], {
    id: deps.newId(),
    time: at,
    source: '/notification',
    subject: alert.cause,
    data: alert.build({ cause: alert.cause, occurrences: decision.occurrences, raisedAt: at.toISOString() }),
  });
  const webhookMessages = await queueAlertMessages(
    trx,
    {
      eventId: event.id,
      eventType: event.type,
      eventSubject: definition.subject,
      payload: JSON.stringify(event),
      now: at,
    },
    alert.aboutEndpoint ?? null,
    deps.newId,
  );
  const raised: RaisedAlert = { kind: alert.kind, event, webhookMessages, emailId: null };
  const office = deps.settings.OFFICE_ALERT_EMAIL;
  if (office) {
    const mail = composeAlertMail(
      raised,
      {
        address: office,
        language: deps.settings.OFFICE_ALERT_LANGUAGE,
        windowMs: deps.settings.ALERT_WINDOW,
      },
      { id: deps.newId(), messageIdDomain: deps.messageIdDomain, now: at },
    );
    await insertEmails(trx, [mail]);
    await mailChannel.notify(trx);
    raised.emailId = mail.id;
  }
  await recordAlert(trx, {
    id: event.id,
    cause: alert.cause,
    kind: definition.subject,
    // On the rule's clock: the next decision compares with it.
    raised_at: now,
    occurrences: decision.occurrences,
    payload: event,
    email_id: raised.emailId,
    webhook_messages: webhookMessages,
  });
  return raised;
}

/**
 * A webhook message given up: an alert for its endpoint's exhausted retries, and one for the endpoint if
 * the service disabled it (not when an operator did).
 */
export async function webhookFailed(
  trx: Transaction<Database>,
  deps: AlertDeps,
  event: WebhookFailedEvent,
): Promise<RaisedAlert[]> {
  const { data } = event;
  const raised: (RaisedAlert | null)[] = [];
  if (data.reason === 'retries_exhausted') {
    raised.push(
      await raiseAlert(trx, deps, {
        kind: 'retriesExhausted',
        cause: causeOf.retriesExhausted(data.endpointId),
        aboutEndpoint: data.endpointId,
        build: (common) => ({
          ...common,
          endpointId: data.endpointId,
          deliveryId: data.deliveryId,
          eventType: data.eventType,
          attempts: data.attempts,
          statusCode: data.statusCode,
        }),
      }),
    );
  }
  if (data.endpointDisabled) {
    const endpoint = await findEndpointHealth(trx, data.endpointId);
    const reason = endpoint?.disabled_reason;
    if (endpoint && !endpoint.enabled && (reason === 'gone' || reason === 'failing')) {
      raised.push(
        await raiseAlert(trx, deps, {
          kind: 'endpointDisabled',
          cause: causeOf.endpointDisabled(endpoint.id),
          aboutEndpoint: endpoint.id,
          build: (common) => ({
            ...common,
            endpointId: endpoint.id,
            reason,
            failingSince: endpoint.failing_since?.toISOString() ?? null,
            disabledAt: (endpoint.disabled_at ?? new Date(data.failedAt)).toISOString(),
            statusCode: data.statusCode,
          }),
        }),
      );
    }
  }
  return raised.filter((r) => r !== null);
}

/** A mail failed for good: alerts when the window's mails cross the thresholds of the mail rules. */
export async function emailFailed(
  trx: Transaction<Database>,
  deps: AlertDeps,
  event: EmailFailedEvent,
): Promise<RaisedAlert[]> {
  const { settings } = deps;
  const figures = await mailFigures(trx, settings.ALERT_MAIL_WINDOW);
  const thresholds = {
    maxFailedRatio: settings.ALERT_MAIL_FAILED_RATIO,
    minVolume: settings.ALERT_MAIL_MIN_VOLUME,
    maxSuppressed: settings.ALERT_MAIL_SUPPRESSED,
  };
  const windowSeconds = Math.max(1, Math.round(settings.ALERT_MAIL_WINDOW / 1000));
  const raised: (RaisedAlert | null)[] = [];
  if (mailsFailing(figures, thresholds)) {
    raised.push(
      await raiseAlert(trx, deps, {
        kind: 'mailsFailed',
        cause: causeOf.mailsFailed(),
        build: (common) => ({
          ...common,
          failed: figures.failed,
          total: figures.total,
          windowSeconds,
          maxFailedRatio: thresholds.maxFailedRatio,
        }),
      }),
    );
  }
  if (event.data.suppressed && mailsSuppressing(figures, thresholds)) {
    raised.push(
      await raiseAlert(trx, deps, {
        kind: 'mailsSuppressed',
        cause: causeOf.mailsSuppressed(),
        build: (common) => ({
          ...common,
          suppressed: figures.suppressed,
          windowSeconds,
          maxSuppressed: thresholds.maxSuppressed,
        }),
      }),
    );
  }
  return raised.filter((r) => r !== null);
}

export function consumerDeadLettered(
  trx: Transaction<Database>,
  deps: AlertDeps,
  service: ServiceName,
  { data }: ConsumerDeadLetteredEvent,
): Promise<RaisedAlert | null> {
  return raiseAlert(trx, deps, {
    kind: 'deadLettered',
    cause: causeOf.deadLettered(service, data.consumer),
    build: (common) => ({
      ...common,
      service,
      consumer: data.consumer,
      deadLetterId: data.deadLetterId,
      eventType: data.eventType,
      reason: data.reason,
    }),
  });
}

export function consumerFellBehind(
  trx: Transaction<Database>,
  deps: AlertDeps,
  service: ServiceName,
  { data }: ConsumerFellBehindEvent,
): Promise<RaisedAlert | null> {
  return raiseAlert(trx, deps, {
    kind: 'consumerFellBehind',
    cause: causeOf.consumerFellBehind(service, data.consumer),
    build: (common) => ({
      ...common,
      service,
      consumer: data.consumer,
      backlog: data.backlog,
      threshold: data.threshold,
      behindSince: data.behindSince,
    }),
  });
}
