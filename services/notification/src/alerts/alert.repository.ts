import { currentTraceparent } from '@citydeals/messaging';
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { deliveryChannel } from '../webhooks/delivery.signal.ts';
import { webhookIdFor } from '../webhooks/payload.rules.ts';
import type { CauseState, MailFigures } from './alert.rules.ts';

/**
 * The cause's state, locked for the rest of the transaction: two replicas handling the same cause at once
 * take the decision one after the other, so only one of them raises.
 */
export async function lockCause(
  trx: Transaction<Database>,
  cause: string,
  kind: string,
): Promise<CauseState> {
  await trx
    .insertInto('alert_cause')
    .values({ cause, kind, last_raised_at: null, held_back: 0 })
    .onConflict((oc) => oc.column('cause').doNothing())
    .execute();
  const row = await trx
    .selectFrom('alert_cause')
    .select(['last_raised_at', 'held_back'])
    .where('cause', '=', cause)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { lastRaisedAt: row.last_raised_at, heldBack: row.held_back };
}

export async function holdCause(trx: Transaction<Database>, cause: string): Promise<void> {
  await trx
    .updateTable('alert_cause')
    .set((eb) => ({ held_back: eb('held_back', '+', 1) }))
    .where('cause', '=', cause)
    .execute();
}

export async function recordAlert(trx: Transaction<Database>, alert: Database['alert']): Promise<void> {
  await trx
    .insertInto('alert')
    .values({ ...alert, payload: JSON.stringify(alert.payload) })
    .execute();
  await trx
    .updateTable('alert_cause')
    .set({ last_raised_at: alert.raised_at, held_back: 0 })
    .where('cause', '=', alert.cause)
    .execute();
}

/**
 * One webhook message per endpoint that subscribes to this alert by name (`*` means every deal event, not
 * alerts; an endpoint filtering by deal gets none), leaving out the endpoint the alert is about: it is the
 * one failing. Wakes the delivery workers of every replica on commit.
 */
export async function queueAlertMessages(
  trx: Transaction<Database>,
  alert: { eventId: string; eventType: string; eventSubject: string; payload: string; now: Date },
  exceptEndpoint: string | null,
  newId: () => string,
): Promise<number> {
  let query = trx
    .selectFrom('webhook_endpoint')
    .select('id')
    .where('enabled', '=', true)
    .where('deal_ids', 'is', null)
    .where(sql<boolean>`${alert.eventSubject} = any(event_types)`);
  if (exceptEndpoint) query = query.where('id', '!=', exceptEndpoint);
  const endpoints = await query.orderBy('id').execute();
  if (endpoints.length === 0) return 0;
  await trx
    .insertInto('webhook_message')
    .values(
      endpoints.map((endpoint) => {
        const id = newId();
        return {
          id,
          endpoint_id: endpoint.id,
          webhook_id: webhookIdFor(id),
          event_id: alert.eventId,
          event_type: alert.eventType,
          deal_id: null,
          deal_version: null,
          payload: alert.payload,
          next_attempt_at: alert.now,
          created_at: alert.now,
          traceparent: currentTraceparent() ?? null,
        };
      }),
    )
    .execute();
  await deliveryChannel.notify(trx);
  return endpoints.length;
}

/**
 * The figures of the mail rules, counted as the Prometheus gauges count them (operations/delivery.metrics.ts):
 * mails created in the window by their status now, and addresses suppressed after a hard bounce in it.
 */
export async function mailFigures(trx: Transaction<Database>, windowMs: number): Promise<MailFigures> {
  const window = `${Math.round(windowMs)} milliseconds`;
  const { rows } = await sql<MailFigures>`
    select
      (select count(*) from email where created_at > now() - ${window}::interval)::int as total,
      (select count(*) from email where created_at > now() - ${window}::interval and status = 'failed')::int as failed,
      (select count(*) from suppression
        where created_at > now() - ${window}::interval and reason = 'rejected')::int as suppressed`.execute(
    trx,
  );
  return rows[0]!;
}

export async function findEndpointHealth(trx: Transaction<Database>, endpointId: string) {
  return trx
    .selectFrom('webhook_endpoint')
    .select(['id', 'enabled', 'disabled_reason', 'disabled_at', 'failing_since'])
    .where('id', '=', endpointId)
    .executeTakeFirst();
}
