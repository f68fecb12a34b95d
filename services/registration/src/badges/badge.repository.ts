import type { Kysely } from 'kysely';
import type { Database, RegistrationStatusColumn } from '../db/database.ts';

/** Name, organisation and deal of everyone in `statuses`; erased registrations have no name. */
export function badgeHolders(
  db: Kysely<Database>,
  meetingId: string,
  statuses: readonly RegistrationStatusColumn[],
) {
  return db
    .selectFrom('registration as r')
    .leftJoin('deals as d', 'd.id', 'r.deal_id')
    .select(['r.name', 'r.organisation', 'd.name as deal'])
    .where('r.meeting_id', '=', meetingId)
    .where('r.status', 'in', [...statuses])
    .where('r.name', 'is not', null)
    .orderBy('r.seq')
    .execute();
}
