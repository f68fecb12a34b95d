import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MeetingRow } from '../read-models/meeting.repository.ts';
import type { RecipientRow } from '../read-models/recipient.repository.ts';
import { dealChangesBetween, meetingsStartedBefore } from './deal-news.repository.ts';
import { chooseDealNews, type DealNews, isLastReminder, previousMeeting } from './deal-news.rules.ts';

/**
 * The deal news of each reminder that is the last before its meeting, by reminder id; other reminders get
 * none. Read in the dispatching transaction from notification's own read models: what deal-tracking
 * announced so far, never a call to it.
 */
export async function dealNewsOfReminders(
  trx: Transaction<Database>,
  reminders: readonly { reminderId: number; offset: string; meeting: MeetingRow; recipient: RecipientRow }[],
  now: Date,
): Promise<Map<number, DealNews[]>> {
  const news = new Map<number, DealNews[]>();
  const last = reminders.filter((r) => isLastReminder(r.offset, r.meeting.reminder_offsets));
  if (last.length === 0) return news;
  const at = (meeting: MeetingRow) => ({
    id: meeting.id,
    startsAt: new Date(meeting.starts_at),
    status: meeting.status,
  });
  const latestStart = new Date(Math.max(...last.map((r) => new Date(r.meeting.starts_at).getTime())));
  const meetings = await meetingsStartedBefore(trx, latestStart);
  const previousStarts = last.flatMap((r) => previousMeeting(at(r.meeting), meetings)?.startsAt ?? []);
  if (previousStarts.length === 0) return news;
  const since = new Date(Math.min(...previousStarts.map((d) => d.getTime())));
  const changes = await dealChangesBetween(trx, since, now);
  for (const reminder of last) {
    news.set(
      reminder.reminderId,
      chooseDealNews({
        meeting: at(reminder.meeting),
        meetings,
        changes,
        attendeeDealId: reminder.recipient.deal_id,
        now,
      }),
    );
  }
  return news;
}
