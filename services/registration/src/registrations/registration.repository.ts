import { attendeeRegistered, attendeeWaitlisted } from '@citydeals/contracts';
import { prepared } from '@citydeals/db';
import { type Insertable, type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, RegistrationStatusColumn, RegistrationTable } from '../db/database.ts';

export type RegistrationRow = NonNullable<Awaited<ReturnType<typeof findRegistration>>>;

/** The meeting and the address's live registration there, if any: what a registration decides on first. */
export function findMeetingWithLiveRegistration(db: Kysely<Database>, meetingId: string, emailKey: string) {
  return db
    .selectFrom('meeting as m')
    .leftJoin('registration as r', (join) =>
      join
        .onRef('r.meeting_id', '=', 'm.id')
        .on('r.email_key', '=', emailKey)
        .on('r.status', '<>', 'cancelled'),
    )
    .select([
      'm.id',
      'm.version',
      'm.status',
      'm.language',
      'm.published_at',
      'm.starts_at',
      'm.ends_at',
      'm.registration_opens_at',
      'm.registration_closes_at',
      'r.id as live_id',
      'r.status as live_status',
      'r.seq as live_seq',
    ])
    .where('m.id', '=', meetingId)
    .executeTakeFirst();
}

/** A new registration as the registering statement takes it: it sets meeting, version, status and times. */
export type NewRegistration = Omit<
  Insertable<RegistrationTable>,
  | 'meeting_id'
  | 'seq'
  | 'version'
  | 'status'
  | 'updated_at'
  | 'confirmed_at'
  | 'cancelled_at'
  | 'cancelled_by'
  | 'checked_in_at'
  | 'no_show_at'
  | 'erased_at'
> & { created_at: Date };

/**
 * The outbox payload for each possible decision (attendee.registered or attendee.waitlisted); the waitlisted
 * one is split where its position goes.
 */
export interface SeatEvents {
  eventId: string;
  confirmed: { payload: string };
  waitlisted: { payloadBeforePosition: string; payloadAfterPosition: string };
}

export interface SeatDecisionRow {
  status: 'confirmed' | 'waitlisted';
  position: number | null;
}

/**
 * Takes seats or waitlist places for registrations in arrival order, and records each registration and its
 * event, in one statement that is its own transaction: the meeting row is locked from the counter update to
 * the commit with no client round trip in between, and a burst into one meeting shares one commit. The
 * decision is `decideSeat` (seat.rules.ts) applied to each in turn, on the counters of the locked row, which
 * an UPDATE re-reads after waiting for the lock (a count of registrations would see the statement's older
 * snapshot): with k arriving, the first `min(k, free seats)` are confirmed if nobody waits, the rest queue.
 * `meetingVersion` is the version whose registration window the caller checked; when the meeting changed
 * since, nothing is written and the answer is undefined. A second live registration of an address fails on
 * the unique index and rolls the whole statement back.
 */
export async function insertRegistrationsWithSeats(
  db: Kysely<Database>,
  meetingId: string,
  meetingVersion: number,
  entries: readonly { row: NewRegistration; events: SeatEvents }[],
): Promise<SeatDecisionRow[] | undefined> {
  if (entries.length === 1) {
    const decision = await insertRegistrationWithSeat(db, meetingId, meetingVersion, entries[0]!);
    return decision && [decision];
  }
  const column = <T>(pick: (e: (typeof entries)[number]) => T) => entries.map(pick);
  const k = entries.length;
  const result = await sql<SeatDecisionRow>`${prepared('register-burst')}
    with seat as (
      update meeting
      set seats_taken = seats_taken
          + case when waitlist_length = 0 then least(${k}::int, greatest(capacity - seats_taken, 0)) else 0 end,
        waitlist_length = waitlist_length + ${k}::int
          - case when waitlist_length = 0 then least(${k}::int, greatest(capacity - seats_taken, 0)) else 0 end
      where id = ${meetingId} and version = ${meetingVersion}
      returning waitlist_length
    ),
    decided as (
      select n.*,
        case when n.i <= greatest(${k}::int - s.waitlist_length, 0) then 'confirmed' else 'waitlisted' end
          as status,
        case when n.i > greatest(${k}::int - s.waitlist_length, 0) then s.waitlist_length - ${k}::int + n.i::int
          end as position
      from seat s cross join unnest(
        ${column((e) => e.row.id)}::uuid[], ${column((e) => e.row.name)}::text[],
        ${column((e) => e.row.email)}::text[], ${column((e) => e.row.email_key)}::text[],
        ${column((e) => e.row.organisation)}::text[], ${column((e) => e.row.role)}::text[],
        ${column((e) => e.row.deal_id)}::uuid[], ${column((e) => e.row.dietary_needs)}::text[],
        ${column((e) => e.row.accessibility_needs)}::text[], ${column((e) => e.row.consent_photo)}::boolean[],
        ${column((e) => e.row.consent_attendee_list)}::boolean[], ${column((e) => e.row.language)}::text[],
        ${column((e) => e.row.token_hash)}::text[], ${column((e) => e.row.created_at)}::timestamptz[],
        ${column((e) => e.events.eventId)}::uuid[], ${column((e) => e.events.confirmed.payload)}::text[],
        ${column((e) => e.events.waitlisted.payloadBeforePosition)}::text[],
        ${column((e) => e.events.waitlisted.payloadAfterPosition)}::text[]
      ) with ordinality as n(id, name, email, email_key, organisation, role, deal_id, dietary_needs,
        accessibility_needs, consent_photo, consent_attendee_list, language, token_hash, created_at, event_id,
        confirmed_payload, waitlisted_before, waitlisted_after, i)
    ),
    inserted as (
      insert into registration (id, meeting_id, version, status, name, email, email_key, organisation, role,
        deal_id, dietary_needs, accessibility_needs, consent_photo, consent_attendee_list, language, token_hash,
        created_at, updated_at, confirmed_at)
      select d.id, ${meetingId}::uuid, 1, d.status, d.name, d.email, d.email_key, d.organisation, d.role,
        d.deal_id, d.dietary_needs, d.accessibility_needs, d.consent_photo, d.consent_attendee_list, d.language,
        d.token_hash, d.created_at, d.created_at, case when d.status = 'confirmed' then d.created_at end
      from decided d order by d.i
    ),
    announced as (
      insert into outbox (event_id, subject, payload)
      select d.event_id,
        case when d.status = 'confirmed' then ${attendeeRegistered.subject}::text
          else ${attendeeWaitlisted.subject}::text end,
        (case when d.status = 'confirmed' then d.confirmed_payload
          else d.waitlisted_before || d.position || d.waitlisted_after end)::json
      from decided d order by d.i
    )
    select d.status, d.position from decided d order by d.i`.execute(db);
  return result.rows.length === k ? result.rows : undefined;
}

/**
 * The same statement for one registration, written with scalar parameters: planning it costs Postgres
 * noticeably less than the array form, and most registrations arrive alone.
 */
async function insertRegistrationWithSeat(
  db: Kysely<Database>,
  meetingId: string,
  meetingVersion: number,
  { row, events }: { row: NewRegistration; events: SeatEvents },
): Promise<SeatDecisionRow | undefined> {
  const result = await sql<SeatDecisionRow>`${prepared('register-one')}
    with seat as (
      update meeting
      set seats_taken = seats_taken + (waitlist_length = 0 and seats_taken < capacity)::int,
        waitlist_length = waitlist_length + (not (waitlist_length = 0 and seats_taken < capacity))::int
      where id = ${meetingId} and version = ${meetingVersion}
      returning waitlist_length
    ),
    decided as (
      select case when waitlist_length = 0 then 'confirmed' else 'waitlisted' end as status,
        nullif(waitlist_length, 0) as position
      from seat
    ),
    inserted as (
      insert into registration (id, meeting_id, version, status, name, email, email_key, organisation, role,
        deal_id, dietary_needs, accessibility_needs, consent_photo, consent_attendee_list, language, token_hash,
        created_at, updated_at, confirmed_at)
      select ${row.id}::uuid, ${meetingId}::uuid, 1, d.status, ${row.name}::text, ${row.email}::text,
        ${row.email_key}::text, ${row.organisation}::text, ${row.role}::text, ${row.deal_id}::uuid,
        ${row.dietary_needs}::text, ${row.accessibility_needs}::text, ${row.consent_photo}::boolean,
        ${row.consent_attendee_list}::boolean, ${row.language}::text, ${row.token_hash}::text,
        ${row.created_at}::timestamptz, ${row.created_at}::timestamptz,
        case when d.status = 'confirmed' then ${row.created_at}::timestamptz end
      from decided d
    ),
    announced as (
      insert into outbox (event_id, subject, payload)
      select ${events.eventId}::uuid,
        case when d.status = 'confirmed' then ${attendeeRegistered.subject}::text
          else ${attendeeWaitlisted.subject}::text end,
        (case when d.status = 'confirmed' then ${events.confirmed.payload}::text
          else ${events.waitlisted.payloadBeforePosition}::text || d.position
            || ${events.waitlisted.payloadAfterPosition}::text end)::json
      from decided d
    )
    select d.status, d.position from decided d`.execute(db);
  return result.rows[0];
}

export function findRegistration(db: Kysely<Database>, id: string) {
  return db.selectFrom('registration').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findRegistrationByTokenHash(db: Kysely<Database>, tokenHash: string) {
  return db.selectFrom('registration').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Callers lock the meeting first, so registration locks never deadlock against seat decisions. */
export function lockRegistration(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('registration').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findLiveRegistrationByEmail(db: Kysely<Database>, meetingId: string, emailKey: string) {
  return db
    .selectFrom('registration')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('email_key', '=', emailKey)
    .where('status', '<>', 'cancelled')
    .executeTakeFirst();
}

/** The waitlist in serving order. */
export function listWaitlist(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('registration')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'waitlisted')
    .orderBy('seq')
    .execute();
}

export async function waitlistPositionOf(
  db: Kysely<Database>,
  meetingId: string,
  seq: number,
): Promise<number> {
  const row = await db
    .selectFrom('registration')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'waitlisted')
    .where('seq', '<=', seq)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function updateRegistration(
  trx: Transaction<Database>,
  id: string,
  patch: Updateable<RegistrationTable>,
) {
  return trx
    .updateTable('registration')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface RegistrationFilter {
  registrationId?: string | undefined;
  status?: RegistrationStatusColumn | undefined;
  role?: string | undefined;
  dealId?: string | undefined;
  search?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/** Registrations of a meeting in arrival order, with the waitlist position of those waiting. */
export function listRegistrations(db: Kysely<Database>, meetingId: string, filter: RegistrationFilter) {
  let query = db
    .selectFrom('registration as r')
    .leftJoin('deals as d', 'd.id', 'r.deal_id')
    .selectAll('r')
    .select([
      'd.name as deal_name',
      sql<number | null>`case when r.status = 'waitlisted' then (
          select count(*)::int from registration w
          where w.meeting_id = r.meeting_id and w.status = 'waitlisted' and w.seq <= r.seq) end`.as(
        'position',
      ),
    ])
    .where('r.meeting_id', '=', meetingId);
  if (filter.registrationId) query = query.where('r.id', '=', filter.registrationId);
  if (filter.status) query = query.where('r.status', '=', filter.status);
  if (filter.role) query = query.where('r.role', '=', filter.role);
  if (filter.dealId) query = query.where('r.deal_id', '=', filter.dealId);
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('r.name', 'ilike', pattern),
        eb('r.email', 'ilike', pattern),
        eb('r.organisation', 'ilike', pattern),
      ]),
    );
  }
  query = query.orderBy('r.seq');
  if (filter.limit !== undefined) query = query.limit(filter.limit);
  if (filter.offset) query = query.offset(filter.offset);
  return query.execute();
}

export function findRegistrationsByEmailKey(db: Kysely<Database>, emailKey: string) {
  return db
    .selectFrom('registration')
    .select(['id', 'meeting_id'])
    .where('email_key', '=', emailKey)
    .where('erased_at', 'is', null)
    .orderBy('seq')
    .execute();
}

/** Registrations not yet anonymised of meetings that ended before `endedBefore`. */
export function findExpiredRegistrations(db: Kysely<Database>, endedBefore: Date, limit: number) {
  return db
    .selectFrom('registration as r')
    .innerJoin('meeting as m', 'm.id', 'r.meeting_id')
    .select(['r.id', 'r.meeting_id'])
    .where('m.ends_at', '<', endedBefore)
    .where('r.erased_at', 'is', null)
    .orderBy('r.seq')
    .limit(limit)
    .execute();
}
