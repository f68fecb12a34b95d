import {
  type CloudEvent,
  type NewEvent,
  webhookDeliveriesRecorded,
  webhookFailed,
} from '@citydeals/contracts';
import { runAfterCommit } from '@citydeals/db';
import { enqueueEvent, statementListEvent } from '@citydeals/messaging';
import type { Clock } from '@citydeals/service-kit';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DirectDeliveries } from './delivery.handoff.ts';
import {
  type ClaimedMessage,
  insertAttempt,
  insertMessage,
  type MessageRow,
  markEndpointsHealthy,
  messageExists,
  queueMessagesForEvents,
  settleDelivered,
  settleMessage,
} from './delivery.repository.ts';
import type { SendResult } from './delivery.sender.ts';
import { deliveryChannel } from './delivery.signal.ts';
import { lockEndpoint, updateEndpoint } from './endpoint.repository.ts';
import { dealRefOf, TEST_EVENT_TYPE, testPayload, webhookIdFor, webhookPayload } from './payload.rules.ts';
import {
  type AttemptDecision,
  type AttemptOutcome,
  decideAfterAttempt,
  hasFailedTooLong,
  type RetryPolicy,
} from './retry.rules.ts';

export const EVENT_SOURCE = '/notification';

export interface QueueDeps {
  clock: Clock;
  newId: () => string;
  signal: { queued(): boolean };
  /** This process's worker, to which messages are handed once committed (see DirectDeliveries). */
  direct?: DirectDeliveries | undefined;
}

/**
 * Called by the consumer inside its inbox transaction: one pending message per subscribed endpoint. Nothing
 * is sent here; after commit the delivery worker sends those handed to it and claims the rest.
 */
export function queueWebhookMessages(
  trx: Transaction<Database>,
  event: CloudEvent,
  eventSubject: string,
  deps: QueueDeps,
): Promise<number> {
  return queueWebhookMessagesForEvents(trx, [{ event, eventSubject }], deps);
}

/**
 * queueWebhookMessages for a run of events (in arrival order) at once, with the same effect as calling it
 * for each in turn: the consumer's batch mode hands it consecutive events, so a run costs one statement
 * instead of one per event. Ids are drawn for one subscriber per event to begin with (an id is not free,
 * and most events have one subscriber); with more subscribers the statement runs again
 * with as many ids as it counted.
 */
export async function queueWebhookMessagesForEvents(
  trx: Transaction<Database>,
  events: readonly { event: CloudEvent; eventSubject: string }[],
  deps: QueueDeps,
): Promise<number> {
  const queued = events.map(({ event, eventSubject }) => ({
    eventId: event.id,
    eventType: event.type,
    eventSubject,
    ...dealRefOf(event),
    payload: webhookPayload(event),
  }));
  const now = deps.clock.now();
  /** Whether this transaction NOTIFYs; undefined until it has told the signal that it queued for a claim. */
  let notify: boolean | undefined;
  let ids = events.length;
  let inserted = 0;
  for (;;) {
    const direct = deps.direct?.offer(deps.newId);
    // With room for every message of this round in the worker's hand, normally none is left for a claim:
    // the workers are then woken (and other replicas notified) only if one was, instead of waking them to
    // claim nothing after every consumer batch.
    const roomForAll = direct !== undefined && direct.limit >= ids;
    if (!roomForAll) notify ??= deps.signal.queued();
    const result = await queueMessagesForEvents(trx, queued, now, messageIds(ids, deps.newId), {
      notify: notify ?? false,
      direct,
    });
    inserted += result.inserted;
    if (notify === undefined && result.inserted > result.leased.length) {
      // Held back for their deal's order, they wait in the table for the claim.
      notify = deps.signal.queued();
      if (notify) await deliveryChannel.notify(trx);
    }
    if (direct && result.leased.length > 0) {
      const handOff = deps.direct!;
      await runAfterCommit(trx, () => handOff.deliver(result.leased, direct.leaseToken));
    }
    // A second round counts at most the subscribers of the first (those queued now are skipped or conflict),
    // unless endpoints were created in between: then once more.
    if (result.subscribers <= ids) return inserted;
    ids = result.subscribers;
  }
}

function messageIds(count: number, newId: () => string) {
  return Array.from({ length: count }, () => {
    const id = newId();
    return { id, webhookId: webhookIdFor(id) };
  });
}

export interface SettlePolicy {
  retry: RetryPolicy;
  disableAfterMs: number;
}

export interface Attempt {
  startedAt: Date;
  webhookTimestamp: number;
  result: SendResult;
}

/**
 * Records one attempt and its consequence in one transaction: the log row, the message's next state, the
 * endpoint's health (disabled on 410 or after failing too long) and the delivered/failed event.
 */
export async function settleAttempt(
  db: Kysely<Database>,
  message: ClaimedMessage,
  leaseToken: string,
  attempt: Attempt,
  deps: { clock: Clock; newId: () => string; random: () => number; policy: SettlePolicy },
): Promise<AttemptDecision> {
  const { result } = attempt;
  const now = deps.clock.now();
  const outcome: AttemptOutcome =
    result.status !== null
      ? { kind: 'response', status: result.status, retryAfter: result.retryAfter }
      : { kind: 'error', error: result.error ?? 'unknown error' };
  const decision = decideAfterAttempt(
    message.attempts - message.round_start,
    outcome,
    deps.policy.retry,
    now,
    deps.random,
  );
  const delivered = decision.action === 'delivered';
  const error = delivered ? null : (result.error ?? `HTTP ${result.status}`);

  await db.transaction().execute(async (trx) => {
    let failureReason: 'retries_exhausted' | 'endpoint_gone' | 'endpoint_disabled' | null = null;
    let endpointDisabled = false;
    if (!delivered) {
      // Locked so two workers failing at once take the disable decision one after the other.
      const endpoint = await lockEndpoint(trx, message.endpoint_id);
      if (!endpoint) return;
      const failingSince = endpoint.failing_since ?? attempt.startedAt;
      const gone = decision.action === 'disable-endpoint';
      const tooLong = hasFailedTooLong(failingSince, now, deps.policy.disableAfterMs);
      if (endpoint.enabled && (gone || tooLong)) {
        await updateEndpoint(
          trx,
          endpoint.id,
          {
            enabled: false,
            disabled_reason: gone ? 'gone' : 'failing',
            disabled_at: now,
            failing_since: failingSince,
          },
          now,
        );
        endpointDisabled = true;
      } else {
        endpointDisabled = !endpoint.enabled;
        if (endpoint.failing_since === null) {
          await updateEndpoint(trx, endpoint.id, { failing_since: failingSince }, now);
        }
      }
      if (gone) failureReason = 'endpoint_gone';
      else if (decision.action === 'give-up') failureReason = 'retries_exhausted';
      else if (endpointDisabled && tooLong) failureReason = 'endpoint_disabled';
    }

    const settled = await settleMessage(trx, message.id, leaseToken, {
      status: delivered ? 'delivered' : failureReason ? 'failed' : 'pending',
      last_status_code: result.status,
      last_error: error,
      ...(delivered ? { delivered_at: now } : {}),
      ...(failureReason ? { failed_at: now, failure_reason: failureReason } : {}),
      ...(decision.action === 'retry' && !failureReason
        ? { next_attempt_at: new Date(now.getTime() + decision.delayMs) }
        : {}),
    });
    // The lease ran out and another worker owns the message now: log what happened, change nothing else.
    if (!settled && !(await messageExists(trx, message.id))) return;
    await insertAttempt(trx, {
      message_id: message.id,
      attempt: message.attempts,
      started_at: attempt.startedAt,
      duration_ms: result.durationMs,
      webhook_timestamp: attempt.webhookTimestamp,
      status_code: result.status,
      error,
      response_body: result.body,
      outcome: delivered ? 'delivered' : 'failed',
    });
    if (!settled) return;
    if (delivered) {
      await markEndpointsHealthy(trx, [message.endpoint_id]);
      await enqueueEvent(
        trx,
        webhookDeliveriesRecorded,
        deliveriesRecorded([deliveredEntry(settled, result, now)], now, {
          eventId: deps.newId(),
          settlementId: deps.newId(),
        }),
      );
    } else if (failureReason) {
      await enqueueEvent(trx, webhookFailed, {
        id: deps.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: message.id,
        data: {
          ...deliveryFacts(settled),
          reason: failureReason,
          statusCode: result.status,
          error: error!.slice(0, 1000),
          endpointDisabled,
          failedAt: now.toISOString(),
        },
      });
    }
  });
  return decision;
}

export interface DeliveredAttempt extends Attempt {
  message: ClaimedMessage;
  leaseToken: string;
}

/**
 * Records a batch of successful attempts at once, with the same effects per message as settleAttempt: the
 * log row, the message delivered (if this worker still holds its lease), the endpoint's failing streak
 * ended; and one delivered event listing the messages settled. A message whose lease ran out only gets its
 * log row.
 */
export async function settleDeliveredBatch(
  db: Kysely<Database>,
  attempts: readonly DeliveredAttempt[],
  deps: { clock: Clock; newId: () => string },
): Promise<void> {
  if (attempts.length === 0) return;
  const now = deps.clock.now();
  await settleDelivered(
    db,
    attempts.map(({ message, leaseToken, result }) => ({
      id: message.id,
      leaseToken,
      version: message.version,
      statusCode: successStatusOf(message, result),
    })),
    attempts.map(attemptLogRow),
    deliveredEvent(attempts, now, { eventId: deps.newId(), settlementId: deps.newId() }),
    now,
  );
}

/**
 * The event of a settlement, listing every attempt's message as it will be once settled (its version one
 * up, as settling bumps it), keyed by message id so that the statement lists only those it settles. Pure.
 */
export function deliveredEvent(
  attempts: readonly DeliveredAttempt[],
  now: Date,
  ids: { eventId: string; settlementId: string },
) {
  return statementListEvent(
    webhookDeliveriesRecorded,
    deliveriesRecorded(
      attempts.map(({ message, result }) =>
        deliveredEntry({ ...message, version: message.version + 1 }, result, now),
      ),
      now,
      ids,
    ),
    ['data', 'deliveries'],
    attempts.map(({ message }) => message.id),
  );
}

type Delivered = ReturnType<typeof deliveredEntry>;

/** The event announcing the deliveries one settlement recorded (the settlement is its entity). */
function deliveriesRecorded(
  deliveries: Delivered[],
  now: Date,
  ids: { eventId: string; settlementId: string },
): NewEvent<typeof webhookDeliveriesRecorded> {
  return {
    id: ids.eventId,
    time: now,
    source: EVENT_SOURCE,
    subject: ids.settlementId,
    data: { settlementId: ids.settlementId, version: 1, recordedAt: now.toISOString(), deliveries },
  };
}

/** One delivery as the event lists it: the message's facts (as settled) and the answer. */
function deliveredEntry(message: Parameters<typeof deliveryFacts>[0], result: SendResult, now: Date) {
  return {
    ...deliveryFacts(message),
    statusCode: successStatusOf(message, result),
    durationMs: result.durationMs,
    deliveredAt: now.toISOString(),
  };
}

function successStatusOf(message: { id: string }, result: SendResult): number {
  if (result.status === null) throw new Error(`message ${message.id} has no response to settle as delivered`);
  return result.status;
}

/** The delivery-log row of a successful attempt; pure. */
export function attemptLogRow({ message, startedAt, webhookTimestamp, result }: DeliveredAttempt) {
  return {
    message_id: message.id,
    attempt: message.attempts,
    started_at: startedAt,
    duration_ms: result.durationMs,
    webhook_timestamp: webhookTimestamp,
    status_code: result.status,
    error: null,
    response_body: result.body,
    outcome: 'delivered' as const,
  };
}

function deliveryFacts(
  message: Pick<
    MessageRow,
    | 'id'
    | 'version'
    | 'endpoint_id'
    | 'webhook_id'
    | 'event_id'
    | 'event_type'
    | 'deal_id'
    | 'deal_version'
    | 'attempts'
  >,
) {
  return {
    deliveryId: message.id,
    version: message.version,
    endpointId: message.endpoint_id,
    webhookId: message.webhook_id,
    eventId: message.event_id,
    eventType: message.event_type,
    dealId: message.deal_id,
    dealVersion: message.deal_version,
    attempts: message.attempts,
  };
}

/**
 * A test message to one endpoint: signed and sent by the workers like any message, with its attempts in the
 * log, so an operator sees the receiver answer (and its signature check) before real events flow.
 */
export function queueTestMessage(
  db: Kysely<Database>,
  endpointId: string,
  deps: { clock: Clock; newId: () => string },
): Promise<MessageRow> {
  const now = deps.clock.now();
  const id = deps.newId();
  const eventId = deps.newId();
  return db.transaction().execute((trx) =>
    insertMessage(
      trx,
      {
        id,
        endpointId,
        webhookId: webhookIdFor(id),
        eventId,
        eventType: TEST_EVENT_TYPE,
        payload: testPayload({ eventId, endpointId, time: now, source: EVENT_SOURCE }),
      },
      now,
    ),
  );
}
