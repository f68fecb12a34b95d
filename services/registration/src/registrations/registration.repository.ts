import { prepared } from '@citydeals/db';
import { type StatementEvent, writeWithEvents } from '@citydeals/messaging';
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
      'm.address_confirmation',
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

export interface SeatDecisionRow {
  status: 'confirmed' | 'waitlisted';
  position: number | null;
}

/** A registration waiting for its seat decision: the meeting version its window was checked on, and its data. */
export interface SeatRequest {
  meetingId: string;
  meetingVersion: number;
  row: NewRegistration;
  /**
   * The event of each possible decision, keyed `<registration id>:<status>`: attendee.registered, and
   * attendee.waitlisted with the position the statement decides.
   */
  events: readonly StatementEvent[];
}

/**
 * Takes seats or waitlist places for registrations in arrival order, and records each registration and its
 * event, in one statement that is its own transaction: each meeting row is locked from its counter update to
 * the commit with no client round trip in between, and a burst, into one meeting or into many, shares one
 * commit. The decision is `decideSeat` (seat.rules.ts) applied to each of a meeting's registrations in turn,
 * on the counters of the locked row, which an UPDATE re-reads after waiting for the lock (a count of
 * registrations would see the statement's older snapshot): with k arriving for a meeting, the first
 * `min(k, free seats)` are confirmed if nobody waits, the rest queue.
 * `meetingVersion` is the version whose registration window the caller checked; a request may name a meeting
 * only with one version per call. When a meeting changed since, nothing is written for its registrations
 * and their answers are undefined; the other meetings' are decided. A second live registration of an
 * address fails on the unique index and rolls the whole statement back.
 */
export async function insertRegistrationsWithSeats(
  db: Kysely<Database>,
  requests: readonly SeatRequest[],
): Promise<(SeatDecisionRow | undefined)[]> {
  if (requests.length === 1) {
    const only = requests[0]!;
    return [await insertRegistrationWithSeat(db, only.meetingId, only.meetingVersion, only)];
  }
  const column = <T>(pick: (r: SeatRequest) => T) => requests.map(pick);
  // One such statement runs at a time per process, so two can only meet across replicas. Both lock their
  // meetings in the order the plan visits them (heap order for a scan, id order for a loop over `wanted`), so
  // they queue behind each other; a deadlock Postgres still finds fails the batch, and the seat queue then
  // retries its registrations one at a time.
  const rows = await writeWithEvents(
    db,
    requests.flatMap((r) => r.events),
    (insertEvents) => sql<SeatDecisionRow & { i: number }>`${prepared('register-batch')}
    with input as (
      select n.*, row_number() over (partition by n.meeting_id order by n.i)::int as j
      from unnest(
        ${column((r) => r.meetingId)}::uuid[], ${column((r) => r.meetingVersion)}::int[],
        ${column((r) => r.row.id)}::uuid[], ${column((r) => r.row.name)}::text[],
        ${column((r) => r.row.email)}::text[], ${column((r) => r.row.email_key)}::text[],
        ${column((r) => r.row.organisation)}::text[], ${column((r) => r.row.role)}::text[],
        ${column((r) => r.row.deal_id)}::uuid[], ${column((r) => r.row.dietary_needs)}::text[],
        ${column((r) => r.row.accessibility_needs)}::text[], ${column((r) => r.row.consent_photo)}::boolean[],
        ${column((r) => r.row.consent_attendee_list)}::boolean[], ${column((r) => r.row.language)}::text[],
        ${column((r) => r.row.token_hash)}::text[], ${column((r) => r.row.created_at)}::timestamptz[]
      ) with ordinality as n(meeting_id, meeting_version, id, name, email, email_key, organisation, role,
        deal_id, dietary_needs, accessibility_needs, consent_photo, consent_attendee_list, language, token_hash,
        created_at, i)
    ),
    wanted as (
      select meeting_id, min(meeting_version) as meeting_version, count(*)::int as k
      from input group by meeting_id order by meeting_id
    ),
    seat as (
      update meeting m
      set seats_taken = m.seats_taken
          + case when m.waitlist_length = 0 then least(w.k, greatest(m.capacity - m.seats_taken, 0)) else 0 end,
        waitlist_length = m.waitlist_length + w.k
          - case when m.waitlist_length = 0 then least(w.k, greatest(m.capacity - m.seats_taken, 0)) else 0 end
      from wanted w
      where m.id = w.meeting_id and m.version = w.meeting_version
      returning m.id, m.waitlist_length, w.k
    ),
    decided as (
      select n.*,
        case when n.j <= greatest(s.k - s.waitlist_length, 0) then 'confirmed' else 'waitlisted' end as status,
        case when n.j > greatest(s.k - s.waitlist_length, 0) then s.waitlist_length - s.k + n.j end as position
      from input n join seat s on s.id = n.meeting_id
    ),
    inserted as (
      insert into registration (id, meeting_id, version, status, name, email, email_key, organisation, role,
        deal_id, dietary_needs, accessibility_needs, consent_photo, consent_attendee_list, language, token_hash,
        created_at, updated_at, confirmed_at)
      select d.id, d.meeting_id, 1, d.status, d.name, d.email, d.email_key, d.organisation, d.role,
        d.deal_id, d.dietary_needs, d.accessibility_needs, d.consent_photo, d.consent_attendee_list, d.language,
        d.token_hash, d.created_at, d.created_at, case when d.status = 'confirmed' then d.created_at end
      from decided d order by d.i
    ),
    announced as (
      ${insertEvents(sql`select d.id::text || ':' || d.status as key, d.position as count from decided d`)}
    )
    select d.i::int as i, d.status, d.position from decided d`,
  );
  const decisions: (SeatDecisionRow | undefined)[] = new Array(requests.length).fill(undefined);
  for (const { i, status, position } of rows) decisions[i - 1] = { status, position };
  return decisions;
}

/**
 * The same statement for one registration, written with scalar parameters: planning it costs Postgres
 * noticeably less than the array form, and most registrations arrive alone.
 */
async function insertRegistrationWithSeat(
  db: Kysely<Database>,
  meetingId: string,
  meetingVersion: number,
  { row, events }: { row: NewRegistration; events: readonly StatementEvent[] },
): Promise<SeatDecisionRow | undefined> {
  const rows = await writeWithEvents(
    db,
    events,
    (insertEvents) => sql<SeatDecisionRow>`${prepared('register-one')}
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
      ${insertEvents(sql`select ${row.id}::text || ':' || d.status as key, d.position as count from decided d`)}
    )
    select d.status, d.position from decided d`,
  );
  return rows[0];
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

/**
 * The first `limit` of the waitlist in serving order. Bounded by the seats there are to give: reading the
 * whole waitlist made every cancellation slower the longer people queued.
 */
export function listWaitlistHead(db: Kysely<Database>, meetingId: string, limit: number) {
  return db
    .selectFrom('registration')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('status', '=', 'waitlisted')
    .orderBy('seq')
    .limit(limit)
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
