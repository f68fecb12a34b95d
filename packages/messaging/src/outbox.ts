import {
  createEvent,
  type EventDefinition,
  type EventOf,
  type NewEvent,
  natsSubjectOf,
} from '@citydeals/contracts';
import type { MessagingTables } from '@citydeals/db';
import { type Kysely, sql, type Transaction } from 'kysely';

/**
 * Records an event in the outbox of the transaction that makes the state change it announces.
 * Taking a `Transaction` (not a `Kysely`) makes "publish without the state change" a compile error.
 * The payload is validated against its contract here, so nothing invalid ever leaves the service.
 */
export async function enqueueEvent<DB extends MessagingTables, D extends EventDefinition>(
  trx: Transaction<DB>,
  definition: D,
  input: NewEvent<D>,
): Promise<EventOf<D>> {
  const [event] = await enqueueEvents(trx, definition, [input]);
  return event!;
}

/** An outbox row: the event validated against its contract, as the relay will publish it. */
export interface OutboxEntry {
  eventId: string;
  subject: string;
  payload: string;
}

/**
 * The outbox row of an event, for a statement that writes it together with the state change it announces
 * (and only if that change is made), as one statement that commits on its own.
 */
export function outboxEntry<D extends EventDefinition>(definition: D, input: NewEvent<D>): OutboxEntry {
  const event = createEvent(definition, input);
  return {
    eventId: event.id,
    subject: natsSubjectOf(definition, event.subject),
    payload: JSON.stringify(event),
  };
}

/** `enqueueEvent` for many events of one kind in one transaction, written in one statement. */
export async function enqueueEvents<DB extends MessagingTables, D extends EventDefinition>(
  trx: Transaction<DB>,
  definition: D,
  inputs: readonly NewEvent<D>[],
): Promise<EventOf<D>[]> {
  if (inputs.length === 0) return [];
  const events = inputs.map((input) => createEvent(definition, input));
  await (trx as unknown as Transaction<MessagingTables>)
    .insertInto('outbox')
    .values(
      events.map((event) => ({
        event_id: event.id,
        subject: natsSubjectOf(definition, event.subject),
        payload: JSON.stringify(event),
      })),
    )
    .execute();
  return events;
}

export interface OutboxLag {
  unpublished: number;
  oldestAgeSeconds: number;
}

/** How far the relay is behind; exported as a metric and shown on readiness. */
export async function outboxLag(db: Kysely<any>): Promise<OutboxLag> {
  const row = await (db as Kysely<MessagingTables>)
    .selectFrom('outbox')
    .where('published_at', 'is', null)
    .select([
      sql<number>`count(*)::int`.as('unpublished'),
      sql<number>`coalesce(extract(epoch from now() - min(created_at)), 0)::float8`.as('oldest'),
    ])
    .executeTakeFirstOrThrow();
  return { unpublished: row.unpublished, oldestAgeSeconds: row.oldest };
}
