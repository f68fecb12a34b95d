import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MessageStatus } from './webhook.tables.ts';

export type MessageRow = Selectable<Database['webhook_message']>;
export type AttemptRow = Selectable<Database['webhook_attempt']>;

/** LISTEN/NOTIFY channel of the delivery workers, per schema (several installations may share a server). */
export const DELIVERY_CHANNEL_SUFFIX = '.webhook_delivery';

export async function insertMessages(
  trx: Transaction<Database>,
  rows: {
    id: string;
    endpoint_id: string;
    webhook_id: string;
    event_id: string;
    event_type: string;
    deal_id: string | null;
    deal_version: number | null;
    payload: string;
    next_attempt_at: Date;
    created_at: Date;
  }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await trx
    .insertInto('webhook_message')
    .values(rows)
    .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
    .returning('id')
    .execute();
  // Delivered on commit, so workers never look before the rows are visible.
  await sql`select pg_notify(current_schema() || ${DELIVERY_CHANNEL_SUFFIX}, '')`.execute(trx);
  return inserted.length;
}

/**
 * Endpoints that were already given this deal at this version or a newer one. A replayed or late event
 * (possibly under a fresh event id) must not reach them again, and never after a newer version.
 */
export async function endpointsPastVersion(
  trx: Transaction<Database>,
  endpointIds: readonly string[],
  dealId: string,
  dealVersion: number,
): Promise<Set<string>> {
  if (endpointIds.length === 0) return new Set();
  const rows = await trx
    .selectFrom('webhook_message')
    .select('endpoint_id')
    .distinct()
    .where('endpoint_id', 'in', endpointIds)
    .where('deal_id', '=', dealId)
    .where('deal_version', '>=', dealVersion)
    .execute();
  return new Set(rows.map((r) => r.endpoint_id));
}

export interface ClaimedMessage {
  id: string;
  endpoint_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  deal_id: string | null;
  deal_version: number | null;
  payload: string;
  attempts: number;
  round_start: number;
  version: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Leases up to `limit` due messages of enabled endpoints to this worker and counts the attempt. `SKIP LOCKED`
 * lets replicas claim side by side without waiting on or taking each other's rows; the lease (not a held
 * transaction) keeps a row away from other workers while it is being sent, and expires if this one dies.
 *
 * Order: a message about a deal is not due while an earlier version of that deal to the same endpoint is
 * still pending (being sent or retried), unless it has waited longer than `orderWaitMs`.
 */
export async function claimDueMessages(
  db: Kysely<Database>,
  options: { limit: number; leaseToken: string; leaseMs: number; orderWaitMs: number },
): Promise<ClaimedMessage[]> {
  const { rows } = await sql<ClaimedMessage>`
    with due as (
      select m.id
      from webhook_message m
      join webhook_endpoint e on e.id = m.endpoint_id and e.enabled
      where m.status = 'pending'
        and m.next_attempt_at <= now()
        and (m.lease_until is null or m.lease_until < now())
        and (
          m.deal_id is null
          or m.created_at <= now() - make_interval(secs => ${options.orderWaitMs / 1000})
          or not exists (
            select 1 from webhook_message p
            where p.endpoint_id = m.endpoint_id
              and p.deal_id = m.deal_id
              and p.status = 'pending'
              and (p.deal_version < m.deal_version or (p.deal_version = m.deal_version and p.id < m.id))
          )
        )
      order by m.next_attempt_at, m.id
      limit ${options.limit}
      for update of m skip locked
    )
    update webhook_message m
    set lease_token = ${options.leaseToken},
        lease_until = now() + make_interval(secs => ${options.leaseMs / 1000}),
        attempts = m.attempts + 1
    from due, webhook_endpoint e
    where m.id = due.id and e.id = m.endpoint_id
    returning m.id, m.endpoint_id, m.webhook_id, m.event_id, m.event_type, m.deal_id, m.deal_version,
      m.payload, m.attempts, m.round_start, m.version, e.url, e.secret, e.previous_secret,
      e.previous_secret_expires_at`.execute(db);
  return rows;
}

export async function insertAttempt(trx: Transaction<Database>, row: Omit<AttemptRow, 'id'>): Promise<void> {
  await trx.insertInto('webhook_attempt').values(row).execute();
}

/** Applies an attempt's result if this worker still holds the lease; undefined if it lost it. */
export function settleMessage(
  trx: Transaction<Database>,
  id: string,
  leaseToken: string,
  changes: {
    status: MessageStatus;
    next_attempt_at?: Date;
    last_status_code: number | null;
    last_error: string | null;
    failure_reason?: string | null;
    delivered_at?: Date | null;
    failed_at?: Date | null;
  },
): Promise<MessageRow | undefined> {
  return trx
    .updateTable('webhook_message')
    .set((eb) => ({ ...changes, lease_token: null, lease_until: null, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .returningAll()
    .executeTakeFirst();
}

export async function messageExists(trx: Transaction<Database>, id: string): Promise<boolean> {
  return (
    (await trx.selectFrom('webhook_message').select('id').where('id', '=', id).executeTakeFirst()) !==
    undefined
  );
}

export async function markEndpointFailing(trx: Transaction<Database>, endpointId: string, since: Date) {
  return trx
    .updateTable('webhook_endpoint')
    .set({ failing_since: since })
    .where('id', '=', endpointId)
    .where('failing_since', 'is', null)
    .execute();
}

export async function markEndpointHealthy(trx: Transaction<Database>, endpointId: string) {
  return trx
    .updateTable('webhook_endpoint')
    .set({ failing_since: null })
    .where('id', '=', endpointId)
    .where('failing_since', 'is not', null)
    .execute();
}

export function findMessage(db: Kysely<Database>, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('webhook_message').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listMessages(
  db: Kysely<Database>,
  endpointId: string,
  options: {
    status?: MessageStatus | undefined;
    since?: Date | undefined;
    after?: string | undefined;
    limit: number;
  },
): Promise<MessageRow[]> {
  let query = db
    .selectFrom('webhook_message')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('id')
    .limit(options.limit);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.since) query = query.where('created_at', '>=', options.since);
  if (options.after) query = query.where('id', '>', options.after);
  return query.execute();
}

export function listAttempts(db: Kysely<Database>, messageId: string): Promise<AttemptRow[]> {
  return db
    .selectFrom('webhook_attempt')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('attempt')
    .orderBy('id')
    .execute();
}

/**
 * Queues messages for a new round of attempts now (the retry schedule starts over); a message being sent
 * right now is left alone. Returns the ids queued.
 */
export async function requeueMessages(
  trx: Transaction<Database>,
  filter: { id: string } | { endpointId: string; since: Date; onlyFailed: boolean },
  now: Date,
): Promise<string[]> {
  let query = trx
    .updateTable('webhook_message')
    .set((eb) => ({
      status: 'pending' as const,
      next_attempt_at: now,
      round_start: eb.ref('attempts'),
      failed_at: null,
      failure_reason: null,
      version: eb('version', '+', 1),
    }))
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
  if ('id' in filter) {
    query = query.where('id', '=', filter.id);
  } else {
    query = query.where('endpoint_id', '=', filter.endpointId).where('created_at', '>=', filter.since);
    if (filter.onlyFailed) query = query.where('status', '=', 'failed');
  }
  const rows = await query.returning('id').execute();
  if (rows.length)
    await sql`select pg_notify(current_schema() || ${DELIVERY_CHANNEL_SUFFIX}, '')`.execute(trx);
  return rows.map((r) => r.id);
}
