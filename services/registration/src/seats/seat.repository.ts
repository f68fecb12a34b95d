import { prepared } from '@citydeals/db';
import { type StatementEvent, writeWithEvents } from '@citydeals/messaging';
import {
  type Insertable,
  type Kysely,
  type Selectable,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { Database, RegistrationTable } from '../db/database.ts';
import type { SeatCounters, SeatDecision } from './seat.rules.ts';

export type RegistrationRow = Selectable<RegistrationTable>;

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
  /** The questions' version the answers were checked against (questions/). */
  questionsVersion: number;
  row: NewRegistration;
  /** Answers to the meeting's questions, checked (questions/), as a JSON object by question id. */
  answers?: string;
  /**
   * The event of each decision it may get, keyed `<registration id>:<status>`: attendee.registered, and
   * attendee.waitlisted with the position the statement decides (seat.events.ts); only one with `expected`.
   */
  events: readonly StatementEvent[];
  /**
   * The one decision `events` cover, when they cover only one (predicted from the counters last read, see
   * `register`): the statement then writes the registration only if it decides so, and otherwise nothing for
   * its meeting, whose registrations come back undefined as for a changed meeting.
   */
  expected?: SeatDecision['status'];
  /** With `expected`: the events of every decision, for the seat queue to have it decided again. */
  everyEvent?: () => readonly StatementEvent[];
  /** Sessions chosen with the registration (sessions/), recorded in the seat decision's transaction. */
  sessionIds?: readonly string[];
}

/**
 * THE capacity rule as it runs. Takes seats or waitlist places for registrations in arrival order, and
 * records each registration and its event, in one statement that is its own transaction: each meeting row is
 * locked from its counter update to the commit with no client round trip in between, and a burst, into one
 * meeting or into many, shares one commit.
 *
 * The decision is `decideSeat` (seat.rules.ts) applied to each of a meeting's registrations in turn, on the
 * counters of the locked row, which an UPDATE re-reads after waiting for the lock (a count of registrations
 * would see the statement's older snapshot): with k arriving for a meeting, the first `min(k, free seats)`
 * are confirmed if nobody waits, the rest queue at positions after those already waiting.
 *
 * `meetingVersion` is the version whose registration window the caller checked; a request may name a meeting
 * only with one version per call; `questionsVersion` likewise for the questions its answers were checked against.
 * When a meeting or its questions changed since, nothing is written for its registrations
 * and their answers are undefined; the other meetings' are decided. A second live registration of an
 * address fails on the unique index and rolls the whole statement back.
 */
export async function takeSeats(
  db: Kysely<Database>,
  requests: readonly SeatRequest[],
): Promise<(SeatDecisionRow | undefined)[]> {
  // One statement like this runs at a time per process (SeatQueue), so two can only meet across replicas. Both
  // lock their meetings in the order the plan visits them (heap order for a scan, id order for a loop over
  // `wanted`), so they queue behind each other; a deadlock Postgres still finds fails the batch, and the
  // seat queue then retries its registrations one at a time.
  // decideSeat for the k newcomers `w` brings to meeting `m`: how many get a seat.
  const seated = sql`(case when m.waitlist_length = m.seats_offered
    then least(w.k, greatest(m.capacity - m.seats_taken - m.seats_offered, 0)) else 0 end)`;
  const rows = await writeWithEvents(
    db,
    requests.flatMap((r) => r.events),
    (insertEvents) => sql<SeatDecisionRow & { i: number }>`${prepared('take-seats')}
    with input as (
      select n.*, row_number() over (partition by n.meeting_id order by n.i)::int as j
      from rows from (json_to_recordset(${inputParameter(requests)}::json) as (meeting_id uuid, expected text,
        meeting_version int, questions_version int, id uuid, name text, email text, email_key text,
        organisation text, role text, deal_id uuid, dietary_needs text, accessibility_needs text,
        consent_photo boolean, consent_attendee_list boolean, language text, token_hash text,
        created_at timestamptz, answers jsonb)
      ) with ordinality as n(meeting_id, expected, meeting_version, questions_version, id, name, email, email_key, organisation, role,
        deal_id, dietary_needs, accessibility_needs, consent_photo, consent_attendee_list, language, token_hash,
        created_at, answers, i)
    ),
    -- seat_from..seat_to: how many of the k newcomers the update may seat, so that each gets a decision it
    -- has an event for: at least up to the last that expects a seat, fewer than the first that expects none.
    wanted as (
      select meeting_id, min(meeting_version) as meeting_version, min(questions_version) as questions_version,
        count(*)::int as k,
        coalesce(max(j) filter (where expected = 'confirmed'), 0) as seat_from,
        coalesce(min(j) filter (where expected = 'waitlisted') - 1, count(*)::int) as seat_to
      from input group by meeting_id order by meeting_id
    ),
    -- decideSeat for k newcomers at once: seats only while nobody waits without an offer, as many as are
    -- free besides those the open offers hold.
    seat as (
      update meeting m
      set seats_taken = m.seats_taken + ${seated}, waitlist_length = m.waitlist_length + w.k - ${seated}
      from wanted w
      where m.id = w.meeting_id and m.version = w.meeting_version and m.questions_version = w.questions_version
        and ${seated} between w.seat_from and w.seat_to
      returning m.id, m.waitlist_length, m.seats_offered, w.k
    ),
    -- The j-th newcomer of a meeting: seated if among those the update seated, else at the waitlist's end.
    -- (waitlist_length - seats_offered) - k is how many waited without an offer before, or minus those seated.
    decided as (
      select n.*,
        case when n.j <= greatest(s.k - (s.waitlist_length - s.seats_offered), 0)
          then 'confirmed' else 'waitlisted' end as status,
        case when n.j > greatest(s.k - (s.waitlist_length - s.seats_offered), 0)
          then s.waitlist_length - s.k + n.j end as position
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
    -- Answers go with their registration; one to a question removed since it was checked is dropped.
    answered as (
      insert into registration_answer (registration_id, question_id, value)
      select d.id, q.id, a.value
      from decided d cross join lateral jsonb_each(coalesce(d.answers, '{}'::jsonb)) a
      join meeting_question q on q.id = a.key::uuid and q.meeting_id = d.meeting_id and q.removed_at is null
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
 * The requests as one JSON array, a row per request named by column; the answers are JSON already and go in
 * as they are. As one array per column, pg escaped every element of each on the service's thread.
 */
function inputParameter(requests: readonly SeatRequest[]): string {
  const rows = requests.map(({ meetingId, meetingVersion, questionsVersion, row, answers, expected }) => {
    const text = JSON.stringify({
      meeting_id: meetingId,
      expected,
      meeting_version: meetingVersion,
      questions_version: questionsVersion,
      id: row.id,
      name: row.name,
      email: row.email,
      email_key: row.email_key,
      organisation: row.organisation,
      role: row.role,
      deal_id: row.deal_id,
      dietary_needs: row.dietary_needs,
      accessibility_needs: row.accessibility_needs,
      consent_photo: row.consent_photo,
      consent_attendee_list: row.consent_attendee_list,
      language: row.language,
      token_hash: row.token_hash,
      created_at: row.created_at,
    });
    return answers ? `${text.slice(0, -1)},"answers":${answers}}` : text;
  });
  return `[${rows.join(',')}]`;
}

/** Reads the counters inside the transaction that holds the meeting lock, so its own changes count. */
export async function lockedSeatCounters(
  trx: Transaction<Database>,
  meetingId: string,
): Promise<SeatCounters> {
  const row = await trx
    .selectFrom('meeting')
    .select(['seats_taken', 'waitlist_length'])
    .where('id', '=', meetingId)
    .executeTakeFirstOrThrow();
  return { seatsTaken: row.seats_taken, waitlistLength: row.waitlist_length };
}

/** The counters as committed, without a lock: good for a limit checked before the seat decision. */
export function committedSeatCounters(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('meeting')
    .select(['capacity', 'seats_taken', 'waitlist_length'])
    .where('id', '=', meetingId)
    .executeTakeFirst();
}

/** Callers hold the meeting lock and change the registrations the delta describes in the same transaction. */
export async function adjustSeatCounters(
  trx: Transaction<Database>,
  meetingId: string,
  delta: SeatCounters,
): Promise<void> {
  if (delta.seatsTaken === 0 && delta.waitlistLength === 0) return;
  await trx
    .updateTable('meeting')
    .set((eb) => ({
      seats_taken: eb('seats_taken', '+', delta.seatsTaken),
      waitlist_length: eb('waitlist_length', '+', delta.waitlistLength),
    }))
    .where('id', '=', meetingId)
    .execute();
}

/** A registration's row changed, status included; callers move the counters with it (changeSeat). */
export function updateRegistrationRow(
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

/** 1-based place in the waitlist of the registration that arrived as `seq`. */
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
