import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, RegistrationStatusColumn, RegistrationTable } from '../db/database.ts';
import type { RegistrationRow } from '../seats/seat.repository.ts';

export type MeetingWithLiveRegistration = NonNullable<
  Awaited<ReturnType<typeof findMeetingWithLiveRegistration>>
>;

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
      'm.questions_version',
      'm.capacity',
      'm.seats_taken',
      'm.waitlist_length',
      'm.seats_offered',
      'r.id as live_id',
      'r.status as live_status',
      'r.seq as live_seq',
    ])
    .where('m.id', '=', meetingId)
    .executeTakeFirst();
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

/** Changes a registration's data; its status changes only through seats/ (changeSeat), with the counters. */
export async function updateRegistration(
  trx: Transaction<Database>,
  id: string,
  patch: Omit<Updateable<RegistrationTable>, 'status'>,
): Promise<RegistrationRow> {
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
