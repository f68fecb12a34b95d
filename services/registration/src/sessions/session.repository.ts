import {
  type Insertable,
  type Kysely,
  type Selectable,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type {
  Database,
  MeetingSessionTable,
  SessionChoiceStatusColumn,
  SessionChoiceTable,
} from '../db/database.ts';

export type SessionRow = Selectable<MeetingSessionTable>;
export type ChoiceRow = Selectable<SessionChoiceTable>;

export async function insertSession(trx: Transaction<Database>, row: Insertable<MeetingSessionTable>) {
  await trx.insertInto('meeting_session').values(row).execute();
}

export function findSession(db: Kysely<Database>, meetingId: string, id: string) {
  return db
    .selectFrom('meeting_session')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A meeting's sessions in the order of the programme. */
export function listSessions(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('meeting_session')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .orderBy('starts_at')
    .orderBy('title')
    .orderBy('id')
    .execute();
}

/**
 * Callers hold the meeting lock already (the one that orders every change of places); the session's own
 * lock keeps a caller that forgot it from deciding on counters another transaction is changing.
 */
export function lockSession(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('meeting_session').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateSession(
  trx: Transaction<Database>,
  id: string,
  patch: Updateable<MeetingSessionTable>,
): Promise<void> {
  await trx.updateTable('meeting_session').set(patch).where('id', '=', id).execute();
}

export async function deleteSession(trx: Transaction<Database>, id: string): Promise<void> {
  await trx.deleteFrom('meeting_session').where('id', '=', id).execute();
}

/** Callers hold the meeting lock and change the choices the delta describes in the same transaction. */
export async function adjustPlaceCounters(
  trx: Transaction<Database>,
  sessionId: string,
  delta: { placesTaken: number; waitlistLength: number },
): Promise<void> {
  if (delta.placesTaken === 0 && delta.waitlistLength === 0) return;
  await trx
    .updateTable('meeting_session')
    .set((eb) => ({
      places_taken: eb('places_taken', '+', delta.placesTaken),
      waitlist_length: eb('waitlist_length', '+', delta.waitlistLength),
    }))
    .where('id', '=', sessionId)
    .execute();
}

/** One session chosen by one registration, in the order the choices arrived. */
export interface ChoiceRequest {
  registrationId: string;
  meetingId: string;
  sessionId: string;
  /** The registration waits for a meeting seat: the choice is kept and holds nothing yet. */
  pending: boolean;
}

/**
 * THE place rule as it runs: records choices in arrival order and decides each, in one statement. The
 * caller's transaction holds the meeting row lock of every meeting named, so the counters the UPDATE reads
 * are exact; the decision is `decidePlace` (session.rules.ts) applied to each of a session's choosers in
 * turn: with k arriving, the first `min(k, free places)` are placed if nobody waits, the rest queue behind
 * those already waiting. Sessions removed meanwhile or of another meeting are skipped.
 */
export async function recordChoices(
  trx: Transaction<Database>,
  requests: readonly ChoiceRequest[],
  now: Date,
): Promise<{ registration_id: string; session_id: string; status: SessionChoiceStatusColumn }[]> {
  if (requests.length === 0) return [];
  const column = <T>(pick: (r: ChoiceRequest) => T) => requests.map(pick);
  const { rows } = await sql<{
    registration_id: string;
    session_id: string;
    status: SessionChoiceStatusColumn;
  }>`
    with input as (
      select n.*, row_number() over (partition by n.session_id, n.pending order by n.i)::int as j
      from unnest(
        ${column((r) => r.registrationId)}::uuid[], ${column((r) => r.meetingId)}::uuid[],
        ${column((r) => r.sessionId)}::uuid[], ${column((r) => r.pending)}::boolean[]
      ) with ordinality as n(registration_id, meeting_id, session_id, pending, i)
      join meeting_session s on s.id = n.session_id and s.meeting_id = n.meeting_id
    ),
    wanted as (
      select session_id, count(*)::int as k from input where not pending group by session_id order by session_id
    ),
    -- decidePlace for k choosers at once: places only while nobody waits, as many as are free.
    place as (
      update meeting_session s
      set places_taken = s.places_taken
          + case when s.waitlist_length = 0 then least(w.k, greatest(s.capacity - s.places_taken, 0)) else 0 end,
        waitlist_length = s.waitlist_length + w.k
          - case when s.waitlist_length = 0 then least(w.k, greatest(s.capacity - s.places_taken, 0)) else 0 end
      from wanted w
      where s.id = w.session_id
      returning s.id, s.waitlist_length, w.k
    ),
    decided as (
      select n.registration_id, n.session_id, n.i,
        case when n.pending then 'pending'
          when n.j <= greatest(p.k - p.waitlist_length, 0) then 'placed' else 'waitlisted' end as status
      from input n left join place p on p.id = n.session_id
    )
    insert into session_choice (registration_id, session_id, status, chosen_at)
    select d.registration_id, d.session_id, d.status, ${now}::timestamptz from decided d order by d.i
    returning registration_id, session_id, status`.execute(trx);
  return rows;
}

export async function setChoiceStatus(
  trx: Transaction<Database>,
  registrationId: string,
  sessionId: string,
  status: SessionChoiceStatusColumn,
): Promise<void> {
  await trx
    .updateTable('session_choice')
    .set({ status })
    .where('registration_id', '=', registrationId)
    .where('session_id', '=', sessionId)
    .execute();
}

/** Removes a registration's choices (all, or of the given sessions) and says what each was. */
export function deleteChoices(
  trx: Transaction<Database>,
  registrationId: string,
  sessionIds?: readonly string[],
) {
  let query = trx.deleteFrom('session_choice').where('registration_id', '=', registrationId);
  if (sessionIds) {
    if (sessionIds.length === 0) return Promise.resolve([]);
    query = query.where('session_id', 'in', sessionIds);
  }
  return query.returning(['session_id', 'status']).execute();
}

/** A registration's choices with their sessions, in programme order, and each waiting one's position. */
export function listChoicesOf(db: Kysely<Database>, registrationId: string) {
  return db
    .selectFrom('session_choice as c')
    .innerJoin('meeting_session as s', 's.id', 'c.session_id')
    .select(['c.session_id', 'c.status', 'c.seq', 's.title', 's.starts_at', 's.ends_at'])
    .select((eb) =>
      eb
        .selectFrom('session_choice as w')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('w.session_id', '=', 'c.session_id')
        .where('w.status', '=', 'waitlisted')
        .whereRef('w.seq', '<=', 'c.seq')
        .as('position'),
    )
    .where('c.registration_id', '=', registrationId)
    .orderBy('s.starts_at')
    .execute();
}

/** The first `limit` of a session's waitlist in serving order. */
export function listPlaceWaitlistHead(trx: Transaction<Database>, sessionId: string, limit: number) {
  return trx
    .selectFrom('session_choice')
    .select(['registration_id', 'seq'])
    .where('session_id', '=', sessionId)
    .where('status', '=', 'waitlisted')
    .orderBy('seq')
    .limit(limit)
    .execute();
}
