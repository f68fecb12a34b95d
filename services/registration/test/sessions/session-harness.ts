import { sql } from 'kysely';
import { adminHeaders, type Service } from '../harness.ts';

/** A session lies within meetingBody's meeting: 2027-03-11 13:00–17:30 in Amsterdam. */
export function sessionBody(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Ontwerpsessie',
    startsAt: '2027-03-11T14:00',
    endsAt: '2027-03-11T15:00',
    capacity: 2,
    ...overrides,
  };
}

export async function createSession(
  service: Service,
  meetingId: string,
  overrides: Record<string, unknown> = {},
) {
  const res = await service.http.inject({
    method: 'POST',
    url: `/admin/meetings/${meetingId}/sessions`,
    headers: adminHeaders,
    payload: sessionBody(overrides),
  });
  if (res.statusCode !== 201) throw new Error(`create session: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; capacity: number };
}

export const tokenOf = (manageUrl: string) => manageUrl.split('/').pop()!;

export function chooseSessions(service: Service, token: string, sessionIds: unknown) {
  return service.http.inject({
    method: 'PUT',
    url: `/registrations/manage/${token}/sessions`,
    payload: { sessionIds },
  });
}

export interface Places {
  capacity: number;
  counters: { placesTaken: number; waitlistLength: number };
  counted: { placesTaken: number; waitlistLength: number };
}

/** A session's counters next to the counts of its choices. */
export async function placesOf(service: Service, sessionId: string): Promise<Places> {
  const { rows } = await sql<{
    capacity: number;
    places_taken: number;
    waitlist_length: number;
    placed: number;
    waiting: number;
  }>`select s.capacity, s.places_taken, s.waitlist_length,
      (select count(*)::int from session_choice c where c.session_id = s.id and c.status = 'placed') as placed,
      (select count(*)::int from session_choice c where c.session_id = s.id and c.status = 'waitlisted') as waiting
    from meeting_session s where s.id = ${sessionId}`.execute(service.runtime.db);
  const row = rows[0]!;
  return {
    capacity: row.capacity,
    counters: { placesTaken: row.places_taken, waitlistLength: row.waitlist_length },
    counted: { placesTaken: row.placed, waitlistLength: row.waiting },
  };
}

/** Who holds a place and who waits, each in the order the session serves them. */
export async function choicesOf(service: Service, sessionId: string) {
  const rows = await service.runtime.db
    .selectFrom('session_choice')
    .select(['registration_id', 'status'])
    .where('session_id', '=', sessionId)
    .orderBy('seq')
    .execute();
  return {
    placed: rows.filter((r) => r.status === 'placed').map((r) => r.registration_id),
    waiting: rows.filter((r) => r.status === 'waitlisted').map((r) => r.registration_id),
    pending: rows.filter((r) => r.status === 'pending').map((r) => r.registration_id),
  };
}

/** Choices that break the rules between meeting status and session places (should be none). */
export async function misplacedChoices(service: Service, meetingId: string) {
  const { rows } = await sql<{ registration_id: string; status: string; choice: string }>`
    select c.registration_id, r.status, c.status as choice
    from session_choice c join registration r on r.id = c.registration_id
    where r.meeting_id = ${meetingId}
      and not ((r.status in ('confirmed', 'checked_in', 'no_show') and c.status in ('placed', 'waitlisted'))
        or (r.status = 'waitlisted' and c.status = 'pending'))`.execute(service.runtime.db);
  return rows;
}

export async function countTable(service: Service, table: 'meeting_session' | 'session_choice') {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
    service.runtime.db,
  );
  return rows[0]!.n;
}
