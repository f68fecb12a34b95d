import { type IndexPlannedDb, prepared } from '@citydeals/db';
import { currentTraceparent, type StatementListEvent, writeWithListEvent } from '@citydeals/messaging';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { deliveryChannel } from './delivery.signal.ts';
import type { MessageStatus } from './webhook.tables.ts';

export type MessageRow = Selectable<Database['webhook_message']>;
export type AttemptRow = Selectable<Database['webhook_attempt']>;

export interface QueuedEvent {
  eventId: string;
  eventType: string;
  /** The event's subject without namespace, as endpoints subscribe to it (or `*`). */
  eventSubject: string;
  dealId: string | null;
  dealVersion: number | null;
  payload: string;
}

/** How the consumer may lease messages to this process's worker as it queues them (see below). */
export interface DirectLease {
  /** At most this many messages are leased. */
  limit: number;
  leaseToken: string;
  leaseMs: number;
}

/** A message leased as it was queued, as the statement returns it; the caller adds what it knows. */
interface LeasedAtQueueing {
  id: string;
  endpoint_id: string;
  webhook_id: string;
  event_id: string;
  attempts: number;
  round_start: number;
  version: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
}

/**
 * Queues one message per subscribed endpoint for each of `events`, in one statement, as if they were queued
 * one after the other.
 *
 * Subscribed: enabled, the event type (by subject) or `*` among its types, and if it filters by deal, this
 * deal. Left out: endpoints already given this version of the deal, as a replayed event (possibly under a
 * fresh event id) must not reach them again; an older version arriving late is still sent. That rule also
 * counts the messages the earlier events of `events` queue here (a statement does not see its own inserts,
 * so an endpoint that is a subscriber of an earlier event for the same deal version is left out). Ids are
 * taken from `ids` in event order; returns how many subscribers there are in all (more than ids given: call
 * again with at least that many, the messages already queued are not queued twice) and how many messages
 * were inserted.
 *
 * With `direct`, up to `direct.limit` of the messages are inserted already leased to the caller's worker,
 * their first attempt counted, and returned, so the worker sends them as soon as the transaction commits
 * instead of claiming them first. Only messages the claim would take now qualify: no earlier version of
 * their deal is pending for the endpoint, in the table or among `events`. The rest are queued for the
 * claim as before (and NOTIFY is only sent for them). A leased message is a row like any other: if this
 * process dies before recording its attempt, the lease runs out and a worker sends it again, with the same
 * `webhook-id`.
 */
export async function queueMessagesForEvents(
  trx: Transaction<Database>,
  events: readonly QueuedEvent[],
  now: Date,
  ids: readonly { id: string; webhookId: string }[],
  options: { notify: boolean; direct?: DirectLease | undefined },
): Promise<{ subscribers: number; inserted: number; leased: ClaimedMessage[] }> {
  const direct = options.direct;
  // One JSON parameter: as text arrays, pg escaped every payload's quotes element by element.
  const queued = JSON.stringify(
    events.map((e) => ({
      i: e.eventId,
      t: e.eventType,
      s: e.eventSubject,
      d: e.dealId,
      v: e.dealVersion,
      p: e.payload,
    })),
  );
  const { rows } = await sql<{
    subscribers: number;
    inserted: number;
    leased: LeasedAtQueueing[] | null;
  }>`${prepared('queue-webhooks')}
    with event as (
      select * from rows from (json_to_recordset(${queued}::json)
          as (i uuid, t text, s text, d uuid, v int, p text))
        with ordinality as event(event_id, event_type, event_subject, deal_id, deal_version, payload, n)
    ), subscriber as (
      select event.n, event.deal_id, event.deal_version, e.id as endpoint_id,
        -- The claim's order rule, for leasing at once: nothing earlier of this deal pending here.
        (event.deal_version is null or not exists (
          select 1 from webhook_message p
          where p.endpoint_id = e.id and p.deal_id = event.deal_id and p.status = 'pending'
            and p.deal_version < event.deal_version)) as first_pending
      from event
      join webhook_endpoint e on e.enabled
        and (event.event_subject = any(e.event_types) or '*' = any(e.event_types))
        and (e.deal_ids is null or event.deal_id = any(e.deal_ids))
      where event.deal_version is null or event.deal_id is null or not exists (
        select 1 from webhook_message given
        where given.endpoint_id = e.id and given.deal_id = event.deal_id
          and given.deal_version = event.deal_version)
    ), target as (
      select s.n, s.endpoint_id, row_number() over (order by s.n, s.endpoint_id) as k,
        s.first_pending and (s.deal_version is null or not exists (
          select 1 from subscriber earlier
          where earlier.endpoint_id = s.endpoint_id and earlier.deal_id = s.deal_id
            and earlier.deal_version < s.deal_version)) as in_order
      from subscriber s
      where s.deal_version is null or s.deal_id is null or not exists (
        select 1 from subscriber earlier
        where earlier.endpoint_id = s.endpoint_id and earlier.deal_id = s.deal_id
          and earlier.deal_version = s.deal_version and earlier.n < s.n)
    ), placed as (
      select t.n, t.endpoint_id, t.k,
        t.in_order and count(*) filter (where t.in_order) over (order by t.k) <= ${direct?.limit ?? 0} as direct
      from target t
    ), inserted as (
      insert into webhook_message (id, endpoint_id, webhook_id, event_id, event_type, deal_id, deal_version,
        payload, next_attempt_at, created_at, traceparent, lease_token, lease_until, attempts)
      select ids.id, placed.endpoint_id, ids.webhook_id, event.event_id, event.event_type, event.deal_id,
        event.deal_version, event.payload, ${now}::timestamptz, ${now}::timestamptz,
        ${currentTraceparent() ?? null}::text,
        case when placed.direct then ${direct?.leaseToken ?? null}::uuid end,
        case when placed.direct then now() + make_interval(secs => ${(direct?.leaseMs ?? 0) / 1000}) end,
        case when placed.direct then 1 else 0 end
      from placed
      join event on event.n = placed.n
      join unnest(${ids.map((i) => i.id)}::uuid[], ${ids.map((i) => i.webhookId)}::text[])
        with ordinality as ids(id, webhook_id, k) on ids.k = placed.k
      on conflict (endpoint_id, event_id) do nothing
      returning id, endpoint_id, webhook_id, event_id, attempts, round_start, version, lease_token
    )
    select (select count(*) from target)::int as subscribers, (select count(*) from inserted)::int as inserted,
      (select json_agg(json_build_object('id', i.id, 'endpoint_id', i.endpoint_id, 'webhook_id', i.webhook_id,
          'event_id', i.event_id, 'attempts', i.attempts, 'round_start', i.round_start, 'version', i.version,
          'url', e.url, 'secret', e.secret, 'previous_secret', e.previous_secret,
          'previous_secret_expires_at', e.previous_secret_expires_at))
        from inserted i join webhook_endpoint e on e.id = i.endpoint_id
        where i.lease_token is not null) as leased,
      -- Delivered on commit, so workers never look before the rows are visible.
      (select ${deliveryChannel.notifyExpression()}
        where ${options.notify} and exists (select 1 from inserted where lease_token is null))`.execute(trx);
  const byEventId = new Map(events.map((e) => [e.eventId.toLowerCase(), e]));
  const leased = (rows[0]!.leased ?? []).map((m): ClaimedMessage => {
    const event = byEventId.get(m.event_id.toLowerCase())!;
    return {
      ...m,
      event_type: event.eventType,
      deal_id: event.dealId,
      deal_version: event.dealVersion,
      payload: event.payload,
      previous_secret_expires_at:
        m.previous_secret_expires_at === null ? null : new Date(m.previous_secret_expires_at),
      traceparent: currentTraceparent() ?? null,
    };
  });
  return { subscribers: rows[0]!.subscribers, inserted: rows[0]!.inserted, leased };
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
  traceparent: string | null;
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
  // The claim must walk the due index in order and stop after `limit` rows. Planned on statistics from
  // when few messages were pending, Postgres instead read every due row, checked the order rule for each
  // and sorted them, at a cost per claim that grows with the backlog: most of the time of a burst.
  db: IndexPlannedDb<Database>,
  options: { limit: number; leaseToken: string; leaseMs: number; orderWaitMs: number },
): Promise<ClaimedMessage[]> {
  const { rows } = await claimStatement(options).execute(db);
  return rows;
}

export function claimStatement(options: {
  limit: number;
  leaseToken: string;
  leaseMs: number;
  orderWaitMs: number;
}) {
  return sql<ClaimedMessage>`${prepared('claim-webhooks')}
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
      e.previous_secret_expires_at, m.traceparent`;
}

/**
 * How long until the next pending message's retry time, in the database's clock as the claims use it;
 * undefined when none is waiting for a later time. Messages due already (held back for their deal's order,
 * or leased) are left out: a settlement or a lease running out brings them back, and the poll finds those.
 */
export async function nextMessageDueInMs(db: IndexPlannedDb<Database>): Promise<number | undefined> {
  const { rows } = await sql<{ ms: number | null }>`${prepared('next-webhook-due')}
    select (extract(epoch from min(next_attempt_at) - now()) * 1000)::float8 as ms
    from webhook_message where status = 'pending' and next_attempt_at > now()`.execute(db);
  return rows[0]?.ms ?? undefined;
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

export interface DeliveredSettlement {
  id: string;
  leaseToken: string;
  /** The message's version when claimed: a row changed since (by an operator) is not settled blindly. */
  version: number;
  statusCode: number;
}

/**
 * Records a batch of successful attempts in one statement, which Postgres runs as one transaction: each
 * message delivered if this worker still holds its lease (else it belongs to another worker now and is
 * left alone), every attempt logged (unless its message has been deleted), the failing streak of each
 * settled message's endpoint ended (healthy endpoints are not written), and one delivered event listing
 * the settled messages (keyed by message id; none if none was settled). Returns the ids settled.
 */
export async function settleDelivered(
  db: Kysely<Database>,
  settlements: readonly DeliveredSettlement[],
  attempts: readonly Omit<AttemptRow, 'id'>[],
  event: StatementListEvent,
  now: Date,
): Promise<string[]> {
  if (settlements.length === 0) return [];
  const pick = <T>(f: (s: DeliveredSettlement) => T) => settlements.map(f);
  const log = <K extends keyof Omit<AttemptRow, 'id'>>(key: K) => attempts.map((r) => r[key]);
  const rows = await writeWithListEvent(
    db,
    event,
    (insertEvent) => sql<{ id: string }>`${prepared('settle-webhooks')}
    with v as (
      select * from unnest(${pick((s) => s.id)}::uuid[], ${pick((s) => s.leaseToken)}::uuid[],
        ${pick((s) => s.version)}::int[], ${pick((s) => s.statusCode)}::int[])
        as v(id, lease_token, version, status_code)
    ), settled as (
      update webhook_message m
      set status = 'delivered', last_status_code = v.status_code, last_error = null, delivered_at = ${now},
          lease_token = null, lease_until = null, version = m.version + 1
      from v
      where m.id = v.id and m.lease_token = v.lease_token and m.version = v.version
      returning m.id, m.endpoint_id
    ), logged as (
      insert into webhook_attempt (message_id, attempt, started_at, duration_ms, webhook_timestamp,
        status_code, error, response_body, outcome)
      select a.* from unnest(${log('message_id')}::uuid[], ${log('attempt')}::int[],
        ${log('started_at')}::timestamptz[], ${log('duration_ms')}::int[], ${log('webhook_timestamp')}::bigint[],
        ${log('status_code')}::int[], ${log('error')}::text[], ${log('response_body')}::text[],
        ${log('outcome')}::text[])
        as a(message_id, attempt, started_at, duration_ms, webhook_timestamp, status_code, error,
          response_body, outcome)
      where exists (select 1 from webhook_message x where x.id = a.message_id)
    ), healthy as (
      update webhook_endpoint e set failing_since = null
      where e.id in (select endpoint_id from settled) and e.failing_since is not null
    ), announced as (
      ${insertEvent(sql`select id::text as key from settled`)}
    )
    select id from settled`,
  );
  return rows.map((r) => r.id);
}

/** A success ends an endpoint's failing streak; endpoints that are healthy are not written. */
export async function markEndpointsHealthy(trx: Transaction<Database>, endpointIds: readonly string[]) {
  if (endpointIds.length === 0) return;
  await trx
    .updateTable('webhook_endpoint')
    .set({ failing_since: null })
    .where('id', 'in', [...endpointIds].sort())
    .where('failing_since', 'is not', null)
    .execute();
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
  if (rows.length) await deliveryChannel.notify(trx);
  return rows.map((r) => r.id);
}

/** A message outside the event stream (a test send), queued for the workers like any other. */
export async function insertMessage(
  trx: Transaction<Database>,
  row: {
    id: string;
    endpointId: string;
    webhookId: string;
    eventId: string;
    eventType: string;
    payload: string;
  },
  now: Date,
): Promise<MessageRow> {
  const inserted = await trx
    .insertInto('webhook_message')
    .values({
      id: row.id,
      endpoint_id: row.endpointId,
      webhook_id: row.webhookId,
      event_id: row.eventId,
      event_type: row.eventType,
      deal_id: null,
      deal_version: null,
      payload: row.payload,
      next_attempt_at: now,
      created_at: now,
      traceparent: currentTraceparent() ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await deliveryChannel.notify(trx);
  return inserted;
}
