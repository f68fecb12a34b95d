import { problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import { resolveInstant } from '../meetings/meeting.rules.ts';
import { meetingCounts } from './consequence.repository.ts';
import { type Consequences, consequencesOf, type MeetingChange } from './consequence.rules.ts';
import type { ConsequenceInput } from './consequence.schemas.ts';

/** What the change would do now; nothing is written and nothing announced. */
export async function previewChange(
  ctx: ServiceContext,
  meetingId: string,
  input: ConsequenceInput,
): Promise<Consequences & { seatsTaken: number; waitlisted: number }> {
  const row = await meetingCounts(ctx.db, meetingId);
  if (!row) throw problems.notFound(`meeting ${meetingId}`);
  let change: MeetingChange;
  switch (input.change) {
    case 'reschedule':
      change = {
        change: 'reschedule',
        startsAt: resolveInstant(input.startsAt, row.time_zone),
        endsAt: resolveInstant(input.endsAt, row.time_zone),
      };
      break;
    case 'edit': {
      const current = await ctx.db
        .selectFrom('meeting')
        .select(['title', 'venue_name', 'venue_address', 'online_url'])
        .where('id', '=', meetingId)
        .executeTakeFirstOrThrow();
      const { change: _, ...edit } = input;
      const differs: Record<string, boolean> = {
        title: edit.title !== undefined && edit.title !== current.title,
        venue:
          edit.venue !== undefined &&
          (edit.venue.name !== current.venue_name || edit.venue.address !== current.venue_address),
        onlineUrl: edit.onlineUrl !== undefined && edit.onlineUrl !== current.online_url,
      };
      const fields = Object.keys(edit).filter((k) => (k in differs ? differs[k] : true));
      change = { change: 'edit', fields };
      break;
    }
    default:
      change = input;
  }
  const consequences = consequencesOf(
    change,
    {
      status: row.status,
      capacity: row.capacity,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      seatsTaken: row.seats_taken,
      seated: Number(row.seated ?? 0),
      waitlisted: row.waitlist_length,
    },
    ctx.clock.now(),
  );
  return { ...consequences, seatsTaken: row.seats_taken, waitlisted: row.waitlist_length };
}
