import { activeDealPhases } from '@citydeals/contracts';
import type { Kysely } from 'kysely';
import type { Database, RegistrationStatusColumn } from '../db/database.ts';

/** Active deals with no registration in one of `statuses` for the meeting, by name. */
export function dealsWithoutRegistration(
  db: Kysely<Database>,
  meetingId: string,
  statuses: readonly RegistrationStatusColumn[],
) {
  return db
    .selectFrom('deals as d')
    .select(['d.id', 'd.name', 'd.kind', 'd.phase'])
    .where('d.phase', 'in', [...activeDealPhases])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('registration as r')
            .select('r.id')
            .whereRef('r.deal_id', '=', 'd.id')
            .where('r.meeting_id', '=', meetingId)
            .where('r.status', 'in', [...statuses]),
        ),
      ),
    )
    .orderBy('d.name')
    .execute();
}

/** Meetings that have started by `now` and were not cancelled: the ones people could come to. */
export function heldMeetings(db: Kysely<Database>, now: Date) {
  return db
    .selectFrom('meeting')
    .select(['id', 'title', 'starts_at', 'time_zone'])
    .where('status', '=', 'published')
    .where('starts_at', '<=', now)
    .orderBy('starts_at')
    .execute();
}

/** People per (meeting, deal) with a registration in one of `statuses`. */
export async function countsPerMeetingAndDeal(
  db: Kysely<Database>,
  meetingIds: readonly string[],
  statuses: readonly RegistrationStatusColumn[],
) {
  if (meetingIds.length === 0) return [];
  return db
    .selectFrom('registration')
    .select(['meeting_id', 'deal_id', (eb) => eb.fn.countAll<string>().as('people')])
    .where('meeting_id', 'in', [...meetingIds])
    .where('status', 'in', [...statuses])
    .groupBy(['meeting_id', 'deal_id'])
    .execute();
}

export function allDeals(db: Kysely<Database>) {
  return db.selectFrom('deals').select(['id', 'name', 'kind', 'phase']).execute();
}
